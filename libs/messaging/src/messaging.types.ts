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
  /**
   * Readiness: every connection this process has opened is connected to the broker right now
   * (always true in process). A lost connection shows at once when the server closes it, within
   * about a minute of pings when the network silently drops it.
   */
  readonly connected: boolean;
  /** Stops serving, flushes the publisher, stops consuming, then disconnects. */
  close(): Promise<void>;
}
