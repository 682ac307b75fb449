import type { EventStream } from '../event-stream.ports.js';
import type { MessagingLogger } from '../shared/messaging.logger.js';
import { ensureEventsStream, type EventsStreamOptions } from './events-stream.setup.js';
import { JetStreamEventStream } from './jetstream-event.stream.js';
import { LazyNatsConnection } from './lazy-nats.connection.js';

export interface NatsEventStreamOptions {
  servers: string | string[];
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** Process name; the connection is named `<name>-stream`. */
  name: string;
  stream?: Omit<EventsStreamOptions, 'connection' | 'prefix'>;
  logger?: MessagingLogger;
}

/**
 * The API's reading side of the events stream (SSE, webhook intake) on a connection of its
 * own, so a slow client-facing reader never delays the fold consumer's acks.
 */
export function createNatsEventStream(options: NatsEventStreamOptions): EventStream {
  const { servers, prefix, name, logger } = options;
  const connection = new LazyNatsConnection({ servers, name: `${name}-stream` });
  const stream = new JetStreamEventStream({
    connection: () => connection.get(),
    ensureStream: (nc) =>
      ensureEventsStream({ ...options.stream, connection: nc, ...(prefix ? { prefix } : {}) }),
    ...(prefix ? { prefix } : {}),
    ...(logger ? { logger } : {}),
  });
  return {
    bounds: () => stream.bounds(),
    read: (fromSeq) => stream.read(fromSeq),
    publish: (event) => stream.publish(event),
    close: async () => {
      await stream.close();
      await connection.close();
    },
  };
}
