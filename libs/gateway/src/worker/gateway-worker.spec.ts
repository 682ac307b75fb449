import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { CommandServer, EventPublisher } from '@wagw/messaging';
import type { WaAuthStore, WaConnection, WaConnectionFactory } from '@wagw/whatsapp';
import pino from 'pino';
import type { LeaseRepository } from '../leases/lease.repository.js';
import type { ClaimOptions, HeldLease, HeldSession } from '../leases/lease.types.js';
import { GatewayMetrics } from '../ops/gateway-metrics.js';
import { GatewayWorker } from './gateway-worker.js';

const TTL = 600; // renew every 200 ms; a lease is trusted until 400 ms after its renewal was sent
const HEARTBEAT_MS = 300;

const held = (sessionId: string): HeldSession => ({
  sessionId,
  organizationId: 'org_1',
  epoch: 1,
  desiredState: 'running',
  paired: true,
  phoneNumber: '6591234567',
  waJid: '6591234567@s.whatsapp.net',
  waLid: null,
  credsCiphertext: null,
  autoRead: false,
  presenceTyping: false,
  ratePerMin: 60,
  ratePerHour: 1000,
});

/** A connection that stays connecting: the test is about leases only. */
const idleFactory: WaConnectionFactory = {
  driver: 'idle',
  create: () =>
    ({
      connect: () => new Promise<void>(() => undefined),
      close: () => Promise.resolve(),
    }) as unknown as WaConnection,
};

const publisher = {
  publish: () => undefined,
  publishDurably: () => Promise.resolve(),
  flush: () => Promise.resolve(),
  pending: 0,
  backlogged: false,
  close: () => Promise.resolve(),
} satisfies EventPublisher;

const commands: CommandServer = { serve: () => Promise.resolve(), close: () => Promise.resolve() };

/** A worker on these leases whose connections never open (the tests are about leases). */
const workerWith = (
  leases: LeaseRepository,
  capacity: number,
  metrics = new GatewayMetrics(false),
): GatewayWorker =>
  new GatewayWorker(
    { gatewayId: 'gw-test', capacity, leaseTtlMs: TTL },
    {
      leases,
      connections: idleFactory,
      publisher,
      commands,
      authStoreFor: () => ({}) as WaAuthStore,
      logger: pino({ level: 'silent' }),
      metrics,
    },
  );

describe('GatewayWorker lease renewal', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('moves the deadlines as soon as the renewal answers, not after the slower heartbeat', async () => {
    let claimed = false;
    const renewals: number[] = [];
    const leases = {
      register: () => Promise.resolve(),
      claim: () => {
        const rows = claimed ? [] : [held('S1')];
        claimed = true;
        return Promise.resolve(rows);
      },
      renew: (_owner: unknown, leases: HeldLease[]) => {
        renewals.push(performance.now());
        return Promise.resolve(leases.map((l) => held(l.sessionId)));
      },
      // A busy gateway (or database) answers the heartbeat late.
      heartbeat: () =>
        new Promise((resolve) =>
          setTimeout(() => resolve({ draining: false, replaced: false }), HEARTBEAT_MS),
        ),
      releaseMany: () => Promise.resolve(new Set<string>()),
    } as unknown as LeaseRepository;
    const metrics = new GatewayMetrics(false);
    const worker = workerWith(leases, 10, metrics);
    await worker.start();
    await jest.advanceTimersByTimeAsync(2_000);

    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(await metrics.leasesLost.get()).toMatchObject({ values: [] });
    expect(worker.sessionsHeld).toBe(1);
    const stopped = worker.stop();
    await jest.advanceTimersByTimeAsync(HEARTBEAT_MS);
    await stopped;
  });

  it('claims nudges that arrive together in one statement, and answers each caller', async () => {
    const claims: (readonly string[] | undefined)[] = [];
    const leases = {
      register: () => Promise.resolve(),
      claim: (_owner: unknown, limit: number, _ttl: number, options: ClaimOptions) => {
        claims.push(options.sessionIds ?? (options.sessionId ? [options.sessionId] : undefined));
        const ids = options.sessionIds ?? (options.sessionId ? [options.sessionId] : []);
        // The database has no row for S-odd ones (deleted meanwhile, say).
        return Promise.resolve(
          ids
            .filter((id) => Number(id.slice(2)) % 2 === 0)
            .slice(0, limit)
            .map(held),
        );
      },
      renew: (_owner: unknown, leases: HeldLease[]) =>
        Promise.resolve(leases.map((l) => held(l.sessionId))),
      heartbeat: () => Promise.resolve({ draining: false, replaced: false }),
      releaseMany: () => Promise.resolve(new Set<string>()),
    } as unknown as LeaseRepository;
    const worker = workerWith(leases, 1_000);
    await worker.start();
    claims.length = 0;
    const ids = Array.from({ length: 100 }, (_, i) => `S-${i}`);
    const answers = Promise.all(ids.map((id) => worker.claimOne(id, false)));
    await jest.advanceTimersByTimeAsync(1);
    const rows = await answers;

    expect(claims.filter((c) => c !== undefined)).toEqual([ids]);
    expect(rows.map((r) => r?.sessionId ?? null)).toEqual(
      ids.map((id, i) => (i % 2 === 0 ? id : null)),
    );
    expect(worker.sessionsHeld).toBe(50);
    const stopped = worker.stop();
    await jest.advanceTimersByTimeAsync(1_000);
    await stopped;
  });

  it('hands 100 sessions over in one release statement, not 100 queued on the lease pool', async () => {
    const releases: { sessionId: string; stopDesired: boolean }[][] = [];
    const ids = Array.from({ length: 100 }, (_, i) => `S-${i}`);
    let claimed = false;
    const leases = {
      register: () => Promise.resolve(),
      claim: () => {
        const rows = claimed ? [] : ids.map(held);
        claimed = true;
        return Promise.resolve(rows);
      },
      renew: (_owner: unknown, leases: HeldLease[]) =>
        Promise.resolve(leases.map((l) => held(l.sessionId))),
      heartbeat: () => Promise.resolve({ draining: false, replaced: false }),
      releaseMany: (_owner: unknown, batch: { sessionId: string; stopDesired: boolean }[]) => {
        releases.push(batch);
        return Promise.resolve(new Set(batch.map((l) => l.sessionId)));
      },
    } as unknown as LeaseRepository;
    const worker = workerWith(leases, 1_000);
    await worker.start();
    await jest.advanceTimersByTimeAsync(1);
    expect(worker.sessionsHeld).toBe(100);

    const stopped = worker.stop();
    await jest.advanceTimersByTimeAsync(1_000);
    await stopped;

    expect(releases).toHaveLength(1);
    expect(releases[0]?.map((l) => l.sessionId).sort()).toEqual([...ids].sort());
    expect(releases[0]?.every((l) => !l.stopDesired)).toBe(true);
    expect(worker.sessionsHeld).toBe(0);
  });
});
