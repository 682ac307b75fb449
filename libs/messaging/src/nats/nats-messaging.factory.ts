import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_NATS_PREFIX, subjects, type NatsRole } from '@wagw/contracts';
import type { Messaging } from '../messaging.types.js';
import type { MessagingLogger } from '../shared/messaging.logger.js';
import {
  ensureDeadLetterStream,
  ensureEventsStream,
  type DeadLetterStreamOptions,
  type EventsStreamOptions,
} from './events-stream.setup.js';
import {
  JetStreamEventConsumer,
  type JetStreamEventConsumerOptions,
} from './jetstream-event.consumer.js';
import {
  JetStreamEventPublisher,
  type JetStreamEventPublisherOptions,
} from './jetstream-event.publisher.js';
import { LazyNatsConnection } from './lazy-nats.connection.js';
import { NatsCommandClient } from './nats-command.client.js';
import { NatsCommandServer } from './nats-command.server.js';
import type { NatsEndpoint } from './nats-connection.options.js';

export interface NatsMessagingOptions extends Omit<NatsEndpoint, 'name' | 'inboxPrefix'> {
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** Process name (e.g. `api-<host>`, `gateway-<id>`); connections are named after it. */
  name: string;
  /**
   * Whose permissions this process runs with: its replies then arrive on that role's inbox
   * (`_INBOX.<prefix>.<role>`). Unset: NATS's default `_INBOX`.
   */
  role?: NatsRole;
  stream?: Omit<EventsStreamOptions, 'connection' | 'prefix'>;
  deadLetterStream?: Omit<DeadLetterStreamOptions, 'connection' | 'prefix'>;
  publisher?: Pick<
    JetStreamEventPublisherOptions,
    'publishTimeoutMs' | 'retry' | 'highWaterMark' | 'closeTimeoutMs'
  >;
  consumer?: Pick<
    JetStreamEventConsumerOptions,
    'ackWaitMs' | 'redelivery' | 'maxAckPending' | 'maxDeliveries'
  >;
  /** How long closing the command server lets in-flight handlers finish; default 10 s. */
  gracePeriodMs?: number;
  logger?: MessagingLogger;
}

/**
 * The distributed setup: commands through Nest's NATS transport (its own connections, one for
 * the client and one for the server), events through JetStream on one shared connection. All
 * connections open on first use and reconnect forever. The events stream is ensured by
 * whichever of publisher and consumer touches NATS first, and again if it disappears.
 */
export function createNatsMessaging(options: NatsMessagingOptions): Messaging {
  const { servers, prefix, name, logger, role } = options;
  const { user, pass, token, credsFile, nkeySeedFile, tls } = options;
  const endpoint: NatsEndpoint = {
    servers,
    user,
    pass,
    token,
    credsFile,
    nkeySeedFile,
    tls,
    ...(role ? { inboxPrefix: subjects(prefix ?? DEFAULT_NATS_PREFIX).inbox(role) } : {}),
  };
  const events = new LazyNatsConnection({ ...endpoint, name: `${name}-events` });
  const ensureStream = (connection: NatsConnection) =>
    ensureEventsStream({ ...options.stream, connection, ...(prefix ? { prefix } : {}) });
  const shared = { connection: () => events.get(), ensureStream, prefix, logger };

  const commands = new NatsCommandClient({ ...endpoint, prefix, name: `${name}-commands` });
  const server = new NatsCommandServer({
    ...endpoint,
    prefix,
    name: `${name}-server`,
    gracePeriodMs: options.gracePeriodMs,
    logger,
  });
  const publisher = new JetStreamEventPublisher({ ...options.publisher, ...shared });
  const consumer = new JetStreamEventConsumer({
    ...options.consumer,
    ...shared,
    ensureDeadLetterStream: (connection) =>
      ensureDeadLetterStream({
        ...options.deadLetterStream,
        connection,
        ...(prefix ? { prefix } : {}),
      }),
  });

  return {
    commands,
    server,
    publisher,
    consumer,
    get connected() {
      return [events.isUp, commands.isUp, server.isUp].every((up) => up !== false);
    },
    close: async () => {
      // Handlers still running may publish: stop serving before the publisher's last flush.
      await server.close();
      await publisher.close();
      await consumer.close();
      await commands.close();
      await events.close();
    },
  };
}
