export * from './messaging.ports.js';
export * from './messaging.types.js';
export { backoffDelay, type BackoffPolicy } from './shared/backoff.policy.js';
export { abortableSleep } from './shared/abortable-sleep.util.js';
export { currentRequestId, REQUEST_ID_HEADER, withRequestId } from './shared/request-context.js';
export {
  nestMessagingLogger,
  silentMessagingLogger,
  type MessagingLogger,
} from './shared/messaging.logger.js';
export { DEFAULT_MAX_DELIVERIES, type DeadLetterReason } from './shared/dead-letter.policy.js';
export {
  ensureDeadLetterStream,
  ensureEventsStream,
  type DeadLetterStreamOptions,
  type EventsStreamOptions,
} from './nats/events-stream.setup.js';
export {
  JetStreamEventConsumer,
  type JetStreamEventConsumerOptions,
} from './nats/jetstream-event.consumer.js';
export {
  JetStreamEventPublisher,
  type JetStreamEventPublisherOptions,
} from './nats/jetstream-event.publisher.js';
export { LazyNatsConnection } from './nats/lazy-nats.connection.js';
export { natsConnectionOptions, type NatsEndpoint } from './nats/nats-connection.options.js';
export { NatsCommandClient, type NatsCommandClientOptions } from './nats/nats-command.client.js';
export { NatsCommandServer, type NatsCommandServerOptions } from './nats/nats-command.server.js';
export { createNatsMessaging, type NatsMessagingOptions } from './nats/nats-messaging.factory.js';
export {
  InProcessBroker,
  type InProcessBrokerOptions,
  type InProcessDeadLetter,
} from './in-process/in-process.broker.js';
export { InProcessCommandClient } from './in-process/in-process-command.client.js';
export {
  InProcessCommandServer,
  type InProcessCommandServerOptions,
} from './in-process/in-process-command.server.js';
export {
  InProcessEventConsumer,
  type InProcessEventConsumerOptions,
} from './in-process/in-process-event.consumer.js';
export { InProcessEventPublisher } from './in-process/in-process-event.publisher.js';
export {
  createInProcessMessaging,
  type InProcessMessagingOptions,
} from './in-process/in-process-messaging.factory.js';
export * from './event-stream.ports.js';
export {
  JetStreamEventStream,
  type JetStreamEventStreamOptions,
} from './nats/jetstream-event.stream.js';
export {
  createNatsEventStream,
  type NatsEventStreamOptions,
} from './nats/nats-event-stream.factory.js';
export { InProcessEventStream } from './in-process/in-process-event.stream.js';
export {
  FileEventLogStore,
  type FileEventLogOptions,
  type InProcessEventStore,
} from './in-process/file-event-log.store.js';
