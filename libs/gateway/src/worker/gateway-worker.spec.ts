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
      close: async () => undefined,
    }) as unknown as WaConnection,
};

const publisher = {
  publish: () => undefined,
  publishDurably: async () => undefined,
  flush: async () => undefined,
  pending: 0,
  backlogged: false,
  close: async () => undefined,
} satisfies EventPublisher;

const commands: CommandServer = { serve: async () => undefined, close: async () => undefined };

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
      register: async () => undefined,
      claim: async () => {
        if (claimed) return [];
        claimed = true;
        return [held('S1')];
      },
      renew: async (_owner: unknown, leases: HeldLease[]) => {
        renewals.push(performance.now());
        return leases.map((l) => held(l.sessionId));
      },
      // A busy gateway (or database) answers the heartbeat late.
      heartbeat: () =>
        new Promise((resolve) =>
          setTimeout(() => resolve({ draining: false, replaced: false }), HEARTBEAT_MS),
        ),
      release: async () => true,
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
