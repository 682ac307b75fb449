import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DEFAULT_NATS_PREFIX,
  parseApiEvent,
  parsePublicEvent,
  subjects,
  type ApiEvent,
  type Subjects,
} from '@wagw/contracts';
import type {
  EventStream,
  EventStreamCursor,
  StreamBounds,
  StreamEntry,
} from '../event-stream.ports.js';
import { abortableSleep } from '../shared/abortable-sleep.util.js';
import { backoffDelay, type BackoffPolicy } from '../shared/backoff.policy.js';
import { wakeOrTimeout } from '../shared/wake-or-timeout.util.js';
import {
  describeError,
  nestMessagingLogger,
  type MessagingLogger,
} from '../shared/messaging.logger.js';

export interface JetStreamEventStreamOptions {
  /** Resolves once connected (the connection never gives up). */
  connection: () => Promise<NatsConnection>;
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** Makes sure the events stream exists (e.g. `ensureEventsStream`) before the first use. */
  ensureStream?: (connection: NatsConnection) => Promise<unknown>;
  /** Delay between attempts while NATS is unreachable; default 100 ms → 5 s. */
  retry?: BackoffPolicy;
  /** How long one publish waits for the stream's ack; default 5 s. */
  publishTimeoutMs?: number;
  logger?: MessagingLogger;
}

/** Entries a cursor holds before it stops pulling (the reader is slower than the stream). */
const CURSOR_BUFFER = 4_096;
const PULL_BATCH = 512;
const encoder = new TextEncoder();

/**
 * The events stream read by JetStream stream sequence. Each cursor is one ordered consumer
 * (ephemeral, flow-controlled, recreated by the client at the right sequence after a
 * reconnect), so a cursor never skips or repeats a message; an API replica keeps one for its
 * SSE fan-out and the webhook intake holder one more.
 */
export class JetStreamEventStream implements EventStream {
  private readonly subjects: Subjects;
  private readonly retry: BackoffPolicy;
  private readonly publishTimeoutMs: number;
  readonly log: MessagingLogger;
  private readonly stop = new AbortController();
  private readonly cursors = new Set<JetStreamStreamCursor>();
  private streamReady: Promise<unknown> | null = null;

  constructor(private readonly options: JetStreamEventStreamOptions) {
    this.subjects = subjects(options.prefix ?? DEFAULT_NATS_PREFIX);
    this.retry = options.retry ?? { baseMs: 100, capMs: 5_000 };
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.log = options.logger ?? nestMessagingLogger(JetStreamEventStream.name);
  }

  get streamName(): string {
    return this.subjects.eventsStream;
  }

  get signal(): AbortSignal {
    return this.stop.signal;
  }

  backoff(failures: number): number {
    return backoffDelay(Math.max(failures, 1), this.retry);
  }

  /** Connected, with the stream ensured once per process (again after a failure). */
  async ready(): Promise<NatsConnection> {
    const nc = await this.options.connection();
    this.streamReady ??= this.options.ensureStream?.(nc) ?? Promise.resolve();
    try {
      await this.streamReady;
    } catch (err) {
      this.streamReady = null;
      throw err;
    }
    return nc;
  }

  async bounds(): Promise<StreamBounds> {
    const nc = await this.ready();
    try {
      const { state } = await (await jetstreamManager(nc)).streams.info(this.streamName);
      // An empty stream reports first_seq 0; one whose messages all expired, last + 1.
      return {
        firstSeq: state.first_seq === 0 ? state.last_seq + 1 : state.first_seq,
        lastSeq: state.last_seq,
      };
    } catch (err) {
      this.streamReady = null;
      throw err;
    }
  }

  read(fromSeq: number): EventStreamCursor {
    const cursor = new JetStreamStreamCursor(this, fromSeq, () => this.cursors.delete(cursor));
    this.cursors.add(cursor);
    return cursor;
  }

  async publish(event: ApiEvent): Promise<void> {
    parseApiEvent(event);
    const subject = this.subjects.event(event.type);
    const data = encoder.encode(JSON.stringify(event));
    for (let failures = 0; ;) {
      if (this.stop.signal.aborted) throw new Error(`event stream closed; ${event.id} unpublished`);
      try {
        const js = jetstream(await this.ready(), { timeout: this.publishTimeoutMs });
        await js.publish(subject, data, { msgID: event.id, timeout: this.publishTimeoutMs });
        return;
      } catch (err) {
        failures += 1;
        this.streamReady = null;
        if (failures === 1 || failures % 10 === 0)
          this.log.warn(
            { eventId: event.id, failures, err: describeError(err) },
            'API event publish failed; retrying',
          );
        await abortableSleep(this.backoff(failures), this.stop.signal);
      }
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all([...this.cursors].map((c) => c.close()));
  }
}

class JetStreamStreamCursor implements EventStreamCursor {
  private buffer: StreamEntry[] = [];
  private nextSeq: number;
  private messages: ConsumerMessages | null = null;
  private dataWaiter: (() => void) | null = null;
  private spaceWaiter: (() => void) | null = null;
  private closed = false;
  private readonly pump: Promise<void>;

  constructor(
    private readonly stream: JetStreamEventStream,
    fromSeq: number,
    private readonly onClose: () => void,
  ) {
    this.nextSeq = Math.max(1, fromSeq);
    this.pump = this.run();
  }

  async next(max: number, waitMs: number): Promise<StreamEntry[]> {
    if (this.buffer.length === 0 && !this.closed) {
      await wakeOrTimeout(waitMs, (wake) => (this.dataWaiter = wake));
      this.dataWaiter = null;
    }
    const entries = this.buffer.length <= max ? this.buffer : this.buffer.slice(0, max);
    this.buffer = entries === this.buffer ? [] : this.buffer.slice(max);
    this.spaceWaiter?.();
    return entries;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dataWaiter?.();
    this.spaceWaiter?.();
    await this.messages?.close();
    await this.pump;
    this.onClose();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed && !this.stream.signal.aborted) {
      try {
        const js = jetstream(await this.stream.ready());
        const consumer = await js.consumers.get(this.stream.streamName, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.nextSeq,
        });
        this.messages = await consumer.consume({ max_messages: PULL_BATCH });
        if (this.closed) await this.messages.close();
        failures = 0;
        for await (const msg of this.messages) {
          if (msg.seq < this.nextSeq) continue;
          this.buffer.push({ seq: msg.seq, event: parse(msg) });
          this.nextSeq = msg.seq + 1;
          this.dataWaiter?.();
          if (this.buffer.length >= CURSOR_BUFFER && !this.closed) {
            await new Promise<void>((resolve) => (this.spaceWaiter = resolve));
            this.spaceWaiter = null;
          }
        }
      } catch (err) {
        failures += 1;
        if (failures === 1 || failures % 10 === 0)
          this.stream.log.warn(
            { fromSeq: this.nextSeq, failures, err: describeError(err) },
            'event stream reader interrupted; restarting',
          );
      } finally {
        this.messages = null;
      }
      if (this.closed) break;
      await abortableSleep(this.stream.backoff(failures), this.stream.signal);
    }
  }
}

function parse(msg: JsMsg): StreamEntry['event'] {
  try {
    return parsePublicEvent(msg.json());
  } catch {
    return null;
  }
}
