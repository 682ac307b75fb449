import { parseGatewayEvent, type AnyGatewayEvent } from '@wagw/contracts';
import type { EventConsumer, EventHandler } from '../messaging.ports.js';
import { backoffDelay, type BackoffPolicy } from '../shared/backoff.policy.js';
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
  logger?: MessagingLogger;
}

/**
 * The embedded mode's EventConsumer: a member of the broker's durable group per consume()
 * call, handling one event at a time; ack on resolve, nak with backoff on reject, malformed
 * events logged and dropped. Same contract as JetStreamEventConsumer.
 */
export class InProcessEventConsumer implements EventConsumer {
  private readonly stop = new AbortController();
  private readonly loops = new Map<string, Promise<void>>();
  private readonly redelivery: BackoffPolicy;
  private readonly log: MessagingLogger;

  constructor(
    private readonly broker: InProcessBroker,
    options: InProcessEventConsumerOptions = {},
  ) {
    this.redelivery = options.redelivery ?? { baseMs: 1_000, capMs: 60_000 };
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
      event = parseGatewayEvent(JSON.parse(delivery.data));
    } catch (err) {
      this.log.error(
        { durable: group.name, seq: delivery.seq, err: describeError(err) },
        'malformed event dropped',
      );
      group.ack(delivery.seq);
      return;
    }
    try {
      await handler(event);
      group.ack(delivery.seq);
    } catch (err) {
      const delayMs = backoffDelay(delivery.deliveryCount, this.redelivery);
      this.log.warn(
        {
          durable: group.name,
          seq: delivery.seq,
          eventId: event.id,
          deliveries: delivery.deliveryCount,
          delayMs,
          err: describeError(err),
        },
        'event handler failed; redelivering',
      );
      group.nak(delivery.seq, delayMs);
    }
  }
}
