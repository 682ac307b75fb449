import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  ReplayPolicy,
  type Consumer,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DEFAULT_NATS_PREFIX,
  isApiEventType,
  parseGatewayEvent,
  subjects,
  type AnyGatewayEvent,
  type Subjects,
} from '@wagw/contracts';
import type { EventConsumer, EventHandler } from '../messaging.ports.js';
import { abortableSleep } from '../shared/abortable-sleep.util.js';
import { backoffDelay, type BackoffPolicy } from '../shared/backoff.policy.js';
import {
  deadLetterError,
  DEFAULT_MAX_DELIVERIES,
  verdictAfterFailure,
  type DeadLetterReason,
} from '../shared/dead-letter.policy.js';
import {
  describeError,
  nestMessagingLogger,
  type MessagingLogger,
} from '../shared/messaging.logger.js';

export interface JetStreamEventConsumerOptions {
  /** Resolves once connected (the connection never gives up). */
  connection: () => Promise<NatsConnection>;
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** Makes sure the events stream exists (e.g. `ensureEventsStream`) before the consumer. */
  ensureStream?: (connection: NatsConnection) => Promise<unknown>;
  /**
   * Makes sure the dead-letter stream exists (e.g. `ensureDeadLetterStream`) before the first
   * dead letter; without it a dead letter goes to the subject only if a stream captures it.
   */
  ensureDeadLetterStream?: (connection: NatsConnection) => Promise<unknown>;
  /** Deliveries of a failing event before it is dead-lettered; default 50 (~30 min). */
  maxDeliveries?: number;
  /** Redelivery when a replica dies mid-event; default 30 s (kept alive while handling). */
  ackWaitMs?: number;
  /** Delay before a rejected event comes back, by delivery count; default 1 s → 60 s. */
  redelivery?: BackoffPolicy;
  /** Unacked events in flight across all replicas of a durable; default 1000. */
  maxAckPending?: number;
  /** Events a replica handles at once; default 128 (the API folds them in batches). */
  concurrency?: number;
  logger?: MessagingLogger;
}

interface Run {
  durableName: string;
  messages: ConsumerMessages | null;
  done: Promise<void>;
}

/** JetStream's "consumer already exists" (with a different configuration). */
const CONSUMER_EXISTS = 10148;

/**
 * A durable pull consumer per durable name, shared by every API replica: the server hands each
 * event to one replica; a replica buffers up to `batch` events and handles up to `concurrency`
 * at once (events carry their session's whole state and an (epoch, seq), so the fold needs no
 * order; one at a time, a fleet takeover of a thousand sessions folds for seconds). Explicit
 * ack after the handler resolves; a rejection naks with a backoff delay.
 *
 * Nothing can block the consumer for ever: a message that isn't a valid event (checked
 * strictly, see parseGatewayEvent) is dead-lettered and terminated before any handler sees
 * it; an event whose handler throws PoisonEventError, or fails on its `maxDeliveries`-th
 * delivery, is published to `<prefix>.v1.dead.<durable>` (the dead-letter stream) with why in
 * its headers, then terminated. A valid event is terminated only once its dead letter is
 * stored: if that fails it is redelivered and tried again.
 */
export class JetStreamEventConsumer implements EventConsumer {
  private readonly subjects: Subjects;
  private readonly ackWaitMs: number;
  private readonly redelivery: BackoffPolicy;
  private readonly maxAckPending: number;
  private readonly concurrency: number;
  private readonly maxDeliveries: number;
  private readonly log: MessagingLogger;
  private deadLetterStreamReady = false;
  private readonly stop = new AbortController();
  private readonly runs = new Map<string, Run>();

  constructor(private readonly options: JetStreamEventConsumerOptions) {
    this.subjects = subjects(options.prefix ?? DEFAULT_NATS_PREFIX);
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.redelivery = options.redelivery ?? { baseMs: 1_000, capMs: 60_000 };
    this.maxAckPending = options.maxAckPending ?? 1_000;
    this.concurrency = options.concurrency ?? 128;
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    if (!Number.isInteger(this.maxDeliveries) || this.maxDeliveries < 1)
      throw new Error('maxDeliveries must be a positive integer');
    this.log = options.logger ?? nestMessagingLogger(JetStreamEventConsumer.name);
  }

  /**
   * Creates (or updates) the durable and starts consuming in the background; resolves once
   * the first setup succeeded (a failure here — bad name, JetStream off — is a deploy error
   * and rejects). From then on the loop survives NATS restarts and a deleted stream/consumer,
   * recreating them, until close().
   */
  async consume(durableName: string, handler: EventHandler): Promise<void> {
    if (this.stop.signal.aborted) throw new Error('event consumer is closed');
    if (this.runs.has(durableName)) throw new Error(`already consuming ${durableName}`);
    const run: Run = { durableName, messages: null, done: Promise.resolve() };
    this.runs.set(durableName, run);
    try {
      const consumer = await this.setup(durableName);
      run.done = this.loop(run, handler, consumer);
    } catch (err) {
      this.runs.delete(durableName);
      throw err;
    }
  }

  /** Stops pulling; an event being handled finishes and is acked first. */
  async close(): Promise<void> {
    this.stop.abort();
    const runs = [...this.runs.values()];
    await Promise.all(runs.flatMap((run) => (run.messages ? [run.messages.close()] : [])));
    await Promise.all(runs.map((run) => run.done));
    this.runs.clear();
  }

  private async setup(durableName: string): Promise<Consumer> {
    const nc = await this.options.connection();
    await this.options.ensureStream?.(nc);
    const stream = this.subjects.eventsStream;
    const config = {
      durable_name: durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      ack_wait: nanos(this.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: this.maxAckPending,
    };
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.consumers.add(stream, config);
    } catch (err) {
      // Replicas of another version may have created it differently: converge on ours
      // (the deliver policy can't change, and doesn't need to).
      if (!(err instanceof JetStreamApiError) || err.code !== CONSUMER_EXISTS) throw err;
      const { ack_wait, max_deliver, max_ack_pending } = config;
      await jsm.consumers.update(stream, durableName, { ack_wait, max_deliver, max_ack_pending });
    }
    return jetstream(nc).consumers.get(stream, durableName);
  }

  private async loop(run: Run, handler: EventHandler, first: Consumer): Promise<void> {
    let consumer: Consumer | null = first;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        consumer ??= await this.setup(run.durableName);
        // abort_on_missing_resource: a consumer or stream that vanished (NATS lost its
        // storage, someone deleted it) ends the iterator, and we recreate both below instead
        // of the client polling for them forever.
        run.messages = await consumer.consume({
          max_messages: this.concurrency * 4,
          abort_on_missing_resource: true,
        });
        // The stop is queued into the iterator, so it must not be awaited before iterating:
        // the loop below drains it (naking anything pulled meanwhile).
        if (this.stop.signal.aborted) void run.messages.close();
        if (failures > 0) this.log.info({ durable: run.durableName }, 'event consumer recovered');
        failures = 0;
        const inFlight = new Set<Promise<void>>();
        try {
          for await (const msg of run.messages) {
            // Pulled just before close(): hand it straight back to the other replicas.
            if (this.stop.signal.aborted) {
              msg.nak();
              continue;
            }
            const handling: Promise<void> = this.handle(run.durableName, msg, handler).finally(() =>
              inFlight.delete(handling),
            );
            inFlight.add(handling);
            if (inFlight.size >= this.concurrency) await Promise.race(inFlight);
          }
        } finally {
          await Promise.all(inFlight);
        }
      } catch (err) {
        failures += 1;
        this.log.warn(
          { durable: run.durableName, failures, err: describeError(err) },
          'event consumer interrupted; restarting',
        );
      } finally {
        run.messages = null;
      }
      consumer = null;
      if (this.stop.signal.aborted) break;
      await abortableSleep(backoffDelay(Math.max(failures, 1), this.redelivery), this.stop.signal);
    }
  }

  private async handle(durable: string, msg: JsMsg, handler: EventHandler): Promise<void> {
    let event: AnyGatewayEvent;
    try {
      const payload: unknown = msg.json();
      // The API's own events (webhook.disabled) share the stream; this port is for gateway events.
      if (isApiEventType((payload as { type?: unknown } | null)?.type)) {
        msg.ack();
        return;
      }
      event = parseGatewayEvent(payload);
    } catch (err) {
      this.log.error(
        { durable, seq: msg.seq, subject: msg.subject, err: describeError(err) },
        'malformed event terminated',
      );
      // Kept for forensics (a forged event, a gateway bug) if possible, but never retried.
      await this.deadLetter(durable, msg, 'malformed', err).catch(() => false);
      msg.term();
      return;
    }
    // A slow handler must not look like a dead replica: keep the ack deadline moving.
    const keepAlive = setInterval(() => msg.working(), this.ackWaitMs / 2);
    try {
      await handler(event);
      msg.ack();
    } catch (err) {
      const deliveries = msg.info.deliveryCount;
      const verdict = verdictAfterFailure(err, deliveries, this.maxDeliveries);
      const context = { durable, seq: msg.seq, eventId: event.id, deliveries };
      if (verdict.kind === 'dead_letter') {
        try {
          await this.deadLetter(durable, msg, verdict.reason, err);
          this.log.error(
            { ...context, reason: verdict.reason, err: describeError(err) },
            'event dead-lettered',
          );
          msg.term();
          return;
        } catch (dlqErr) {
          this.log.error(
            { ...context, err: describeError(dlqErr) },
            'cannot store a dead letter; redelivering',
          );
        }
      }
      const delayMs = backoffDelay(deliveries, this.redelivery);
      this.log.warn(
        { ...context, delayMs, err: describeError(err) },
        'event handler failed; redelivering',
      );
      msg.nak(delayMs);
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * Publishes the message as it was on the wire to the durable's dead-letter subject, with why
   * in the headers; deduplicated per (durable, stream sequence), so a retry stores it once.
   */
  private async deadLetter(
    durable: string,
    msg: JsMsg,
    reason: DeadLetterReason,
    error: unknown,
  ): Promise<void> {
    const nc = await this.options.connection();
    if (!this.deadLetterStreamReady) {
      await this.options.ensureDeadLetterStream?.(nc);
      this.deadLetterStreamReady = true;
    }
    const h = headers();
    h.set('Wagw-Durable', durable);
    h.set('Wagw-Subject', msg.subject);
    h.set('Wagw-Stream-Seq', String(msg.seq));
    h.set('Wagw-Deliveries', String(msg.info.deliveryCount));
    h.set('Wagw-Reason', reason);
    h.set('Wagw-Error', deadLetterError(error));
    try {
      await jetstream(nc).publish(this.subjects.deadLetter(durable), msg.data, {
        msgID: `${durable}.${msg.seq}`,
        headers: h,
      });
    } catch (err) {
      // The stream may be gone (NATS lost its storage): ensure it again next time.
      this.deadLetterStreamReady = false;
      throw err;
    }
  }
}
