import { DEFAULT_NATS_PREFIX, subjects, type NatsRole } from '@wagw/contracts';
import type { EventStream } from '../event-stream.ports.js';
import type { MessagingLogger } from '../shared/messaging.logger.js';
import { ensureEventsStream, type EventsStreamOptions } from './events-stream.setup.js';
import { JetStreamEventStream } from './jetstream-event.stream.js';
import { LazyNatsConnection } from './lazy-nats.connection.js';
import type { NatsEndpoint } from './nats-connection.options.js';

export interface NatsEventStreamOptions extends Omit<NatsEndpoint, 'name' | 'inboxPrefix'> {
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** Process name; the connection is named `<name>-stream`. */
  name: string;
  /** Whose permissions this process runs with (its replies arrive on that role's inbox). */
  role?: NatsRole;
  stream?: Omit<EventsStreamOptions, 'connection' | 'prefix'>;
  logger?: MessagingLogger;
}

/**
 * The API's reading side of the events stream (SSE, webhook intake) and its own events, on a
 * connection of its own (same credentials, TLS and inbox as the rest of the process), so a
 * busy client-facing reader never delays the fold consumer's acks.
 */
export function createNatsEventStream(options: NatsEventStreamOptions): EventStream {
  const { prefix, name, logger, role, stream: streamOptions, ...endpoint } = options;
  const connection = new LazyNatsConnection({
    ...endpoint,
    name: `${name}-stream`,
    ...(role ? { inboxPrefix: subjects(prefix ?? DEFAULT_NATS_PREFIX).inbox(role) } : {}),
  });
  const stream = new JetStreamEventStream({
    connection: () => connection.get(),
    ensureStream: (nc) =>
      ensureEventsStream({ ...streamOptions, connection: nc, ...(prefix ? { prefix } : {}) }),
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
