import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { errors as natsErrors, type NatsConnection } from '@nats-io/transport-node';
import {
  DEFAULT_NATS_PREFIX,
  parseGatewayEvent,
  subjects,
  type AnyGatewayEvent,
  type Subjects,
} from '@wagw/contracts';
import type { EventPublisher } from '../messaging.ports.js';
import { abortableSleep } from '../shared/abortable-sleep.util.js';
import { backoffDelay, type BackoffPolicy } from '../shared/backoff.policy.js';
import {
  describeError,
  nestMessagingLogger,
  type MessagingLogger,
} from '../shared/messaging.logger.js';
import { PendingEventQueue } from '../shared/pending-event.queue.js';

export interface JetStreamEventPublisherOptions {
  /** Resolves once connected; the publisher waits on it without blocking publish(). */
  connection: () => Promise<NatsConnection>;
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /**
   * Makes sure the events stream exists (e.g. `ensureEventsStream`). Run before the first
   * publish and again after a failure that isn't a timeout, so a publisher that outlived its
   * NATS (a fresh server, a deleted stream) restores the stream instead of failing forever.
   */
  ensureStream?: (connection: NatsConnection) => Promise<unknown>;
  /** How long one publish waits for the stream's ack; default 5 s. */
  publishTimeoutMs?: number;
  /** Delay between attempts while NATS/JetStream is unavailable; default 100 ms → 5 s. */
  retry?: BackoffPolicy;
  /** Backlog at which `backlogged` turns true (until under half of it); default 10 000. */
  highWaterMark?: number;
  /** How long close() keeps trying to publish the backlog; default 5 s. */
  closeTimeoutMs?: number;
  /** Events in flight at once; default 128. */
  window?: number;
  logger?: MessagingLogger;
}

interface QueuedEvent {
  id: string;
  subject: string;
  data: Uint8Array;
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const encoder = new TextEncoder();

/**
 * Durable publication without blocking the caller: publish() queues, one pump publishes the
 * queue head to JetStream with `msgID = event.id` and only drops it once the stream acked it.
 * Pipelined: up to `window` events are in flight at once (one at a time, a takeover of a
 * thousand sessions backs up for seconds). Order across retries is not guaranteed and need not
 * be: every event carries its session's whole state and its (epoch, seq), and the API folds
 * only the newest. On failure the whole window is retried (each event deduplicated by its id)
 * with capped backoff, forever.
 *
 * The backlog is never truncated: dropping the oldest events would lose exactly the state
 * changes the API needs (status, pairing, logout), and they can't be rebuilt. Past
 * `highWaterMark` it logs and `backlogged` says so until the backlog is under half of it, for
 * readiness to fail and the gateway to stop taking sessions; memory is the bound (~1 KB per
 * event: 10k events ≈ 10 MB; the sessions already held keep adding to it).
 */
export class JetStreamEventPublisher implements EventPublisher {
  private readonly subjects: Subjects;
  private readonly queue = new PendingEventQueue<QueuedEvent>();
  private readonly retry: BackoffPolicy;
  private readonly publishTimeoutMs: number;
  private readonly highWaterMark: number;
  private readonly closeTimeoutMs: number;
  private readonly window: number;
  private readonly log: MessagingLogger;
  private readonly stop = new AbortController();
  private waiters: FlushWaiter[] = [];
  private wake: (() => void) | null = null;
  private pump: Promise<void> | null = null;
  private enqueued = 0;
  private durable = 0;
  private overHighWaterMark = false;
  private closing = false;

  constructor(private readonly options: JetStreamEventPublisherOptions) {
    this.subjects = subjects(options.prefix ?? DEFAULT_NATS_PREFIX);
    this.retry = options.retry ?? { baseMs: 100, capMs: 5_000 };
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.highWaterMark = options.highWaterMark ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.window = options.window ?? 128;
    this.log = options.logger ?? nestMessagingLogger(JetStreamEventPublisher.name);
  }

  get pending(): number {
    return this.queue.size;
  }

  get backlogged(): boolean {
    return this.overHighWaterMark;
  }

  publish(event: AnyGatewayEvent): void {
    if (this.closing) throw new Error(`event publisher is closed; event ${event.id} refused`);
    // Validated and encoded now: a bad event is the caller's bug and must fail at the call
    // site, and later mutations of the object must not change what gets published.
    parseGatewayEvent(event);
    this.queue.push({
      id: event.id,
      subject: this.subjects.event(event.type),
      data: encoder.encode(JSON.stringify(event)),
    });
    this.enqueued += 1;
    if (!this.overHighWaterMark && this.queue.size >= this.highWaterMark) {
      this.overHighWaterMark = true;
      this.log.warn(
        { pending: this.queue.size, highWaterMark: this.highWaterMark },
        'event backlog over high-water mark: NATS is down or too slow',
      );
    }
    this.pump ??= this.run();
    this.wake?.();
  }

  publishDurably(event: AnyGatewayEvent): Promise<void> {
    this.publish(event);
    // The queue is FIFO and `durable` counts from its head: this event is durable once the
    // count reaches its place.
    const target = this.enqueued;
    if (this.durable >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target, resolve, reject, timer: undefined });
    });
  }

  flush(timeoutMs: number): Promise<void> {
    const target = this.enqueued;
    if (this.durable >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: FlushWaiter = {
        target,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new Error(`flush timed out after ${timeoutMs} ms, ${this.pending} events pending`),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** A last attempt to publish the backlog (up to closeTimeoutMs), then stops the pump. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.flush(this.closeTimeoutMs);
    } catch {
      this.log.error({ lost: this.pending }, 'event publisher closed with unpublished events');
    }
    this.stop.abort();
    this.wake?.();
    await this.pump;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('event publisher closed'));
    }
  }

  private async run(): Promise<void> {
    const nc = await this.connect();
    if (!nc) return;
    const js = jetstream(nc, { timeout: this.publishTimeoutMs });
    let streamReady = this.options.ensureStream === undefined;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      const batch = this.queue.peekMany(this.window);
      if (batch.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      try {
        if (!streamReady) {
          await this.options.ensureStream?.(nc);
          streamReady = true;
        }
        await this.publishBatch(js, batch);
        if (failures > 0) this.log.info({ failures }, 'event publishing recovered');
        failures = 0;
      } catch (err) {
        failures += 1;
        // A timeout says nothing about the stream (NATS is down or slow). Anything else (on
        // NATS 2.9 a subject no stream captures reads "jetstream is not enabled") may mean
        // the stream is gone: re-ensure it before the next attempt.
        const timedOut = err instanceof natsErrors.TimeoutError;
        if (!timedOut) streamReady = this.options.ensureStream === undefined;
        // Log the first failure and then every 10th: an outage must not flood the logs.
        if (failures === 1 || failures % 10 === 0) {
          this.log.warn(
            { failures, pending: this.pending, err: describeError(err) },
            'event publish failed; retrying',
          );
        }
        await abortableSleep(backoffDelay(failures, this.retry), this.stop.signal);
      }
    }
  }

  private async publishBatch(js: JetStreamClient, batch: readonly QueuedEvent[]): Promise<void> {
    await Promise.all(
      batch.map((event) =>
        js.publish(event.subject, event.data, { msgID: event.id, timeout: this.publishTimeoutMs }),
      ),
    );
    for (let i = 0; i < batch.length; i++) this.queue.shift();
    this.durable += batch.length;
    if (this.overHighWaterMark && this.queue.size < this.highWaterMark / 2) {
      this.overHighWaterMark = false;
      this.log.info({ pending: this.queue.size }, 'event backlog back under high-water mark');
    }
    if (this.waiters.length === 0) return;
    const done = this.waiters.filter((w) => w.target <= this.durable);
    this.waiters = this.waiters.filter((w) => w.target > this.durable);
    for (const waiter of done) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  /** Waits for the connection (it never gives up), unless the publisher closes first. */
  private async connect(): Promise<NatsConnection | null> {
    const aborted = new Promise<null>((resolve) => {
      if (this.stop.signal.aborted) resolve(null);
      this.stop.signal.addEventListener('abort', () => resolve(null), { once: true });
    });
    let attempt = 0;
    while (!this.stop.signal.aborted) {
      try {
        return await Promise.race([this.options.connection(), aborted]);
      } catch (err) {
        attempt += 1;
        this.log.warn({ err: describeError(err) }, 'event publisher cannot connect; retrying');
        await abortableSleep(backoffDelay(attempt, this.retry), this.stop.signal);
      }
    }
    return null;
  }
}
