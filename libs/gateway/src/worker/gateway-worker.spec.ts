import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { CommandServer, EventPublisher } from '@wagw/messaging';
import type { WaAuthStore, WaConnection, WaConnectionFactory } from '@wagw/whatsapp';
import pino from 'pino';
import type { LeaseRepository } from '../leases/lease.repository.js';
import type { HeldLease, HeldSession } from '../leases/lease.types.js';
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
      release: () => Promise.resolve(true),
    } as unknown as LeaseRepository;
    const metrics = new GatewayMetrics(false);
    const worker = new GatewayWorker(
      { gatewayId: 'gw-test', capacity: 10, leaseTtlMs: TTL },
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
    await worker.start();
    await jest.advanceTimersByTimeAsync(2_000);

    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(await metrics.leasesLost.get()).toMatchObject({ values: [] });
    expect(worker.sessionsHeld).toBe(1);
    const stopped = worker.stop();
    await jest.advanceTimersByTimeAsync(HEARTBEAT_MS);
    await stopped;
  });
});
