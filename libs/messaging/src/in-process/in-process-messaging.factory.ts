import type { Messaging } from '../messaging.types.js';
import type { BackoffPolicy } from '../shared/backoff.policy.js';
import type { MessagingLogger } from '../shared/messaging.logger.js';
import { InProcessCommandClient } from './in-process-command.client.js';
import { InProcessCommandServer } from './in-process-command.server.js';
import { InProcessEventConsumer } from './in-process-event.consumer.js';
import { InProcessEventPublisher } from './in-process-event.publisher.js';
import type { InProcessBroker } from './in-process.broker.js';

export interface InProcessMessagingOptions {
  /** Delay before a rejected event comes back; default 1 s → 60 s. */
  redelivery?: BackoffPolicy;
  /** Deliveries of a failing event before it is dead-lettered; default 50. */
  maxDeliveries?: number;
  /** How long closing the command server lets in-flight handlers finish; default 10 s. */
  gracePeriodMs?: number;
  logger?: MessagingLogger;
}

/** The embedded setup (`npm start` without NATS_URL): every part on one process's broker. */
export function createInProcessMessaging(
  broker: InProcessBroker,
  options: InProcessMessagingOptions = {},
): Messaging {
  const { logger, redelivery, maxDeliveries, gracePeriodMs } = options;
  const server = new InProcessCommandServer(broker, { gracePeriodMs, logger });
  const publisher = new InProcessEventPublisher(broker);
  const consumer = new InProcessEventConsumer(broker, { redelivery, maxDeliveries, logger });
  const commands = new InProcessCommandClient(broker);
  return {
    commands,
    server,
    publisher,
    consumer,
    connected: true,
    close: async () => {
      await server.close();
      await publisher.close();
      await consumer.close();
      await commands.close();
    },
  };
}
