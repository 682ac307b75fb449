import type { AnyGatewayEvent } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import type { CommandServer, EventPublisher } from '@wagw/messaging';
import type { WaAuthStore, WaConnectionFactory } from '@wagw/whatsapp';
import type { Logger } from 'pino';
import type { LeaseRepository } from '../leases/lease.repository.js';
import type { ClaimOptions, HeldSession, LeaseOwner, LeaseRelease } from '../leases/lease.types.js';
import type { GatewayMetrics } from '../ops/gateway-metrics.js';
import { CallBatcher } from './call-batcher.js';
import { gatewayCommandHandlers } from './command-router.js';
import { SessionEventFactory } from './event-factory.js';
import { messageCommandHandlers } from './message-command-router.js';
import { type BackoffOptions, DEFAULT_BACKOFF } from './reconnect-policy.js';
import { SessionRunner } from './session-runner.js';

export interface GatewayWorkerOptions {
  gatewayId: string;
  capacity: number;
  leaseTtlMs: number;
  /** Most sessions claimed in one statement; a full batch claims again at once. */
  claimBatch?: number;
  backoff?: BackoffOptions;
}

export interface GatewayWorkerDeps {
  leases: LeaseRepository;
  connections: WaConnectionFactory;
  publisher: EventPublisher;
  commands: CommandServer;
  authStoreFor(
    sessionId: string,
    fence: () => { ownerId: string; epoch: number },
    prefetchedCreds?: Buffer | null,
  ): WaAuthStore;
  logger: Logger;
  metrics: GatewayMetrics;
}

interface Held {
  runner: SessionRunner;
  events: SessionEventFactory;
  /** Monotonic ms after which this worker must assume the lease is gone. */
  deadline: number;
}

const FENCE_CHECK_MS = 100;

/**
 * One gateway worker: claims sessions that should run (up to its capacity), renews all its
 * leases in one statement every TTL/3, fences itself off before a lease can expire when it
 * cannot renew, answers lifecycle commands, and hands its sessions over on drain or SIGTERM.
 */
export class GatewayWorker {
  readonly owner: LeaseOwner;
  private readonly held = new Map<string, Held>();
  private readonly ttl: number;
  private readonly margin: number;
  private readonly claimBatch: number;
  private readonly backoff: BackoffOptions;
  private renewTimer: NodeJS.Timeout | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;
  private claiming = false;
  private renewing: Promise<void> | null = null;
  private draining = false;
  private stopped = false;
  private registered = false;
  private lastRenewOk = 0;
  /**
   * "Claim now" nudges (a session was created or started) and lease releases (stops, hand-overs)
   * that arrive together go as one statement each: a burst of a thousand costs a few statements,
   * not a thousand round trips queued on the lease pool ahead of the renewal.
   */
  private readonly nudges = new CallBatcher<string, HeldSession | undefined>(async (ids) => {
    const rows = await this.claim({ sessionIds: [...new Set(ids)] });
    const claimed = new Map(rows.map((row) => [row.sessionId, row]));
    return ids.map((id) => claimed.get(id));
  });
  private readonly releases = new CallBatcher<LeaseRelease, boolean>(async (calls) => {
    const merged = new Map<string, LeaseRelease>();
    for (const c of calls) {
      const key = `${c.sessionId}/${c.epoch}`;
      const seen = merged.get(key);
      merged.set(key, seen ? { ...seen, stopDesired: seen.stopDesired || c.stopDesired } : c);
    }
    const released = await this.deps.leases.releaseMany(this.owner, [...merged.values()]);
    return calls.map((c) => released.has(c.sessionId));
  });

  constructor(
    private readonly options: GatewayWorkerOptions,
    private readonly deps: GatewayWorkerDeps,
  ) {
    this.owner = { gatewayId: options.gatewayId, ownerId: `${options.gatewayId}/${newId()}` };
    this.ttl = options.leaseTtlMs;
    // Renew every TTL/3 and stop trusting a lease TTL/3 before it can expire.
    this.margin = Math.max(Math.floor(options.leaseTtlMs / 3), 200);
    this.claimBatch = options.claimBatch ?? 500;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get sessionsHeld(): number {
    return this.held.size;
  }

  /** Handing its sessions over (drain, SIGTERM): takes no new session. */
  get isDraining(): boolean {
    return this.draining || this.stopped;
  }

  /** Ready: registered, renewing in time, not stopped (the event backlog is checked apart). */
  get ready(): boolean {
    return this.registered && !this.stopped && performance.now() - this.lastRenewOk < this.ttl;
  }

  async start(): Promise<void> {
    await this.deps.leases.register(this.owner, this.options.capacity);
    this.registered = true;
    this.lastRenewOk = performance.now();
    await this.deps.commands.serve(this.options.gatewayId, [
      ...gatewayCommandHandlers(this),
      ...messageCommandHandlers(this),
    ]);
    const period = Math.max(Math.floor(this.ttl / 3), 100);
    this.renewTimer = setInterval(() => void this.renew(), period);
    // Claiming polls faster than renewal: an orphaned session waits for the next claim tick
    // after its lease expires, and the claim query is one cheap indexed statement.
    const claimPeriod = Math.max(Math.min(Math.floor(this.ttl / 6), 500), 100);
    this.claimTimer = setInterval(() => void this.claim(), claimPeriod);
    this.fenceTimer = setInterval(() => this.selfFence(), FENCE_CHECK_MS);
    void this.claim();
    this.deps.logger.info(
      { owner: this.owner.ownerId, capacity: this.options.capacity, leaseTtlMs: this.ttl },
      'gateway worker started',
    );
  }

  /** Graceful stop (SIGTERM): take no more work, hand every session to peers, flush events. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.deps.metrics.draining.set(1);
    clearInterval(this.claimTimer);
    await this.deps.commands.close().catch(() => undefined);
    await this.handOverAll();
    clearInterval(this.renewTimer);
    clearInterval(this.fenceTimer);
    await this.renewing;
    await this.deps.publisher
      .flush(5_000)
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'events not all flushed'));
    this.deps.logger.info('gateway worker stopped');
  }

  // --- leases ---------------------------------------------------------------------------------

  private async claim(options: ClaimOptions = {}): Promise<HeldSession[]> {
    if (this.stopped || this.draining) return [];
    // Events that cannot be published pile up in memory: take no new session meanwhile.
    if (this.deps.publisher.backlogged) return [];
    const free = this.options.capacity - this.held.size;
    if (free <= 0) return [];
    const targeted = options.sessionId !== undefined || options.sessionIds !== undefined;
    if (!targeted) {
      if (this.claiming) return [];
      this.claiming = true;
    }
    try {
      const sentAt = performance.now();
      const rows = await this.deps.leases.claim(
        this.owner,
        Math.min(free, options.sessionIds?.length ?? (targeted ? 1 : this.claimBatch)),
        this.ttl,
        options,
      );
      for (const row of rows) this.adopt(row, sentAt, options.forAction ? 'logout' : 'run');
      if (!targeted && rows.length === this.claimBatch) setImmediate(() => void this.claim());
      return rows;
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'claim failed');
      return [];
    } finally {
      if (!targeted) this.claiming = false;
    }
  }

  private adopt(row: HeldSession, sentAt: number, purpose: 'run' | 'logout'): SessionRunner {
    const events = new SessionEventFactory(
      this.options.gatewayId,
      row.organizationId,
      row.sessionId,
      row.epoch,
    );
    const entry: Held = {
      runner: undefined as unknown as SessionRunner,
      events,
      deadline: sentAt + this.ttl - this.margin,
    };
    const runner = new SessionRunner(
      row,
      {
        gatewayId: this.options.gatewayId,
        factory: this.deps.connections,
        auth: this.deps.authStoreFor(
          row.sessionId,
          () => ({ ownerId: this.owner.ownerId, epoch: row.epoch }),
          row.credsCiphertext,
        ),
        backoff: this.backoff,
        logger: this.deps.logger,
        emit: (type, data, state) => {
          if (this.held.get(row.sessionId) !== entry || performance.now() >= entry.deadline) return;
          this.publish(events.create(type, data, state));
        },
        emitDurably: async (type, data, state) => {
          if (this.held.get(row.sessionId) !== entry || performance.now() >= entry.deadline)
            throw new Error('the lease is no longer held: not acknowledged');
          const durable = this.deps.publisher.publishDurably(events.create(type, data, state));
          this.deps.metrics.eventsPending.set(this.deps.publisher.pending);
          await durable;
        },
        release: async ({ stopDesired }) => {
          if (performance.now() >= entry.deadline) return;
          await this.releases.call({ sessionId: row.sessionId, epoch: row.epoch, stopDesired });
        },
        finished: () => {
          if (this.held.get(row.sessionId) === entry) this.held.delete(row.sessionId);
          this.deps.metrics.sessionsHeld.set(this.held.size);
        },
      },
      purpose,
    );
    entry.runner = runner;
    this.held.set(row.sessionId, entry);
    this.deps.metrics.claims.inc();
    this.deps.metrics.sessionsHeld.set(this.held.size);
    runner.start();
    return runner;
  }

  private renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    const sentAt = performance.now();
    const snapshot = [...this.held.entries()];
    const endTimer = this.deps.metrics.renewDuration.startTimer();
    try {
      const rows = await this.deps.leases.renew(
        this.owner,
        snapshot.map(([sessionId, h]) => ({ sessionId, epoch: h.runner.held.epoch })),
        this.ttl,
      );
      endTimer();
      this.lastRenewOk = performance.now();
      this.deps.metrics.leasesRenewed.inc(rows.length);
      const still = new Map(rows.map((r) => [r.sessionId, r]));
      for (const [sessionId, h] of snapshot) {
        if (this.held.get(sessionId) !== h) continue;
        const row = still.get(sessionId);
        if (!row) {
          this.deps.metrics.leasesLost.inc({ why: 'renewal' });
          this.deps.logger.warn({ sessionId }, 'lease lost at renewal: closing at once');
          h.runner.fence();
          continue;
        }
        h.deadline = sentAt + this.ttl - this.margin;
        Object.assign(h.runner.held, {
          autoRead: row.autoRead,
          presenceTyping: row.presenceTyping,
          ratePerMin: row.ratePerMin,
          ratePerHour: row.ratePerHour,
        });
        // A stop whose command was lost is honoured here, within one renewal.
        if (row.desiredState === 'stopped' && !h.runner.isLoggingOut)
          void h.runner.stop('stop requested');
      }
      // After the deadlines moved: on a busy event loop, every round trip before that update
      // brings the self-fence closer.
      const heartbeat = await this.deps.leases.heartbeat(this.owner, this.held.size);
      // Also as the backlog drains, when nothing is published to update it.
      this.deps.metrics.eventsPending.set(this.deps.publisher.pending);
      if (heartbeat.draining && !this.draining) void this.drain();
    } catch (error) {
      endTimer();
      this.deps.logger.warn({ err: error }, 'lease renewal failed');
    }
  }

  /** Any lease past its local deadline is treated as lost: close without a word. */
  private selfFence(): void {
    const now = performance.now();
    for (const [sessionId, h] of this.held) {
      if (now < h.deadline) continue;
      this.deps.metrics.leasesLost.inc({ why: 'self_fence' });
      this.deps.logger.warn({ sessionId }, 'could not renew in time: self-fencing');
      h.runner.fence();
    }
  }

  private async handOverAll(): Promise<number> {
    const runners = [...this.held.values()].map((h) => h.runner);
    await Promise.all(runners.map((r) => r.handOver()));
    return runners.length;
  }

  /** Hands every session to peers and takes no new one (NATS drain command, `POST /drain`). */
  async drain(): Promise<number> {
    this.draining = true;
    this.deps.metrics.draining.set(1);
    this.deps.logger.info('draining: handing every session to peers');
    return this.handOverAll();
  }

  private publish(event: AnyGatewayEvent): void {
    this.deps.publisher.publish(event);
    this.deps.metrics.eventsPending.set(this.deps.publisher.pending);
  }

  // --- what the command router needs (GatewayCommandTarget) ----------------------------------

  get gatewayId(): string {
    return this.options.gatewayId;
  }

  runnerOf(sessionId: string): SessionRunner | undefined {
    return this.held.get(sessionId)?.runner;
  }

  /** Why this worker takes no session now, or null when it may. */
  refusal(options: { countCapacity: boolean }): string | null {
    if (this.draining || this.stopped) return 'draining';
    if (this.deps.publisher.backlogged) return 'event backlog';
    if (options.countCapacity && this.held.size >= this.options.capacity) return 'no capacity';
    return null;
  }

  async claimOne(sessionId: string, forAction: boolean): Promise<HeldSession | undefined> {
    if (!forAction) return this.nudges.call(sessionId);
    const [row] = await this.claim({ sessionId, forAction });
    return row;
  }

  renewNow(): Promise<void> {
    return this.renew();
  }

  drainNow(): Promise<number> {
    return this.drain();
  }
}
