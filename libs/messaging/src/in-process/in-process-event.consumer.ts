import { isApiEventType, parseGatewayEvent, type AnyGatewayEvent } from '@wagw/contracts';
import type { EventConsumer, EventHandler } from '../messaging.ports.js';
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
import type { InProcessDelivery, InProcessDurableGroup } from './in-process-durable.group.js';
import type { InProcessBroker } from './in-process.broker.js';

export interface InProcessEventConsumerOptions {
  /** Delay before a rejected event comes back, by delivery count; default 1 s → 60 s. */
  redelivery?: BackoffPolicy;
  /** Deliveries of a failing event before it is dead-lettered; default 50. */
  maxDeliveries?: number;
  logger?: MessagingLogger;
}

/**
 * The embedded mode's EventConsumer: a member of the broker's durable group per consume()
 * call, handling one event at a time; ack on resolve, nak with backoff on reject. Same contract
 * as JetStreamEventConsumer: malformed events, PoisonEventError and events that failed
 * `maxDeliveries` times go to the broker's dead letters (and the log) and are dropped.
 */
export class InProcessEventConsumer implements EventConsumer {
  private readonly stop = new AbortController();
  private readonly loops = new Map<string, Promise<void>>();
  private readonly redelivery: BackoffPolicy;
  private readonly maxDeliveries: number;
  private readonly log: MessagingLogger;

  constructor(
    private readonly broker: InProcessBroker,
    options: InProcessEventConsumerOptions = {},
  ) {
    this.redelivery = options.redelivery ?? { baseMs: 1_000, capMs: 60_000 };
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    if (!Number.isInteger(this.maxDeliveries) || this.maxDeliveries < 1)
      throw new Error('maxDeliveries must be a positive integer');
    this.log = options.logger ?? nestMessagingLogger(InProcessEventConsumer.name);
  }

  consume(durableName: string, handler: EventHandler): Promise<void> {
    if (this.stop.signal.aborted) return Promise.reject(new Error('event consumer is closed'));
    if (this.loops.has(durableName)) {
      return Promise.reject(new Error(`already consuming ${durableName}`));
    }
    this.loops.set(durableName, this.loop(this.broker.durable(durableName), handler));
    return Promise.resolve();
  }

  /** Stops taking events; an event being handled finishes and is acked first. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.loops.values());
    this.loops.clear();
  }

  private async loop(group: InProcessDurableGroup, handler: EventHandler): Promise<void> {
    for (;;) {
      const delivery = await group.next(this.stop.signal);
      if (!delivery) return;
      await this.handle(group, delivery, handler);
    }
  }

  private async handle(
    group: InProcessDurableGroup,
    delivery: InProcessDelivery,
    handler: EventHandler,
  ): Promise<void> {
    let event: AnyGatewayEvent;
    try {
      const payload: unknown = JSON.parse(delivery.data);
      // The API's own events (webhook.disabled) share the stream; this port is for gateway events.
      if (isApiEventType((payload as { type?: unknown } | null)?.type)) {
        group.ack(delivery.seq);
        return;
      }
      event = parseGatewayEvent(payload);
    } catch (err) {
      this.log.error(
        { durable: group.name, seq: delivery.seq, err: describeError(err) },
        'malformed event terminated',
      );
      this.deadLetter(group, delivery, 'malformed', err);
      return;
    }
    try {
      await handler(event);
      group.ack(delivery.seq);
    } catch (err) {
      const verdict = verdictAfterFailure(err, delivery.deliveryCount, this.maxDeliveries);
      const context = {
        durable: group.name,
        seq: delivery.seq,
        eventId: event.id,
        deliveries: delivery.deliveryCount,
      };
      if (verdict.kind === 'dead_letter') {
        this.log.error(
          { ...context, reason: verdict.reason, err: describeError(err) },
          'event dead-lettered',
        );
        this.deadLetter(group, delivery, verdict.reason, err);
        return;
      }
      const delayMs = backoffDelay(delivery.deliveryCount, this.redelivery);
      this.log.warn(
        { ...context, delayMs, err: describeError(err) },
        'event handler failed; redelivering',
      );
      group.nak(delivery.seq, delayMs);
    }
  }

  private deadLetter(
    group: InProcessDurableGroup,
    delivery: InProcessDelivery,
    reason: DeadLetterReason,
    error: unknown,
  ): void {
    this.broker.deadLetter({
      durable: group.name,
      seq: delivery.seq,
      data: delivery.data,
      deliveries: delivery.deliveryCount,
      reason,
      error: deadLetterError(error),
      at: Date.now(),
    });
    group.ack(delivery.seq);
  }
}
