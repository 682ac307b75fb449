import type {
  CommandClient,
  CommandServer,
  EventConsumer,
  EventPublisher,
} from './messaging.ports.js';

/**
 * One process's messaging, whichever transport carries it: the API uses `commands` and
 * `consumer`, a gateway `server` and `publisher`; the unused ones never connect.
 */
export interface Messaging {
  commands: CommandClient;
  server: CommandServer;
  publisher: EventPublisher;
  consumer: EventConsumer;
  /** Stops serving, flushes the publisher, stops consuming, then disconnects. */
  close(): Promise<void>;
}
