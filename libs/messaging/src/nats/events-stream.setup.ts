import {
  DiscardPolicy,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_NATS_PREFIX, subjects } from '@wagw/contracts';

export interface EventsStreamOptions {
  connection: NatsConnection;
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** Retention by age; default 7 days (SSE `Last-Event-ID` resumes within it). */
  maxAgeMs?: number;
  /** Retention by size; default -1 (unbounded: age bounds it). Oldest events go first. */
  maxBytes?: number;
  /** Dedup window for retried publishes (same msg id); default 2 min, at least 2 min. */
  duplicateWindowMs?: number;
  /** Replicas in a clustered JetStream; default 1. */
  replicas?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MIN_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/** JetStream's "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

/** Creates the events stream, or brings an existing one to this configuration. */
export async function ensureEventsStream(options: EventsStreamOptions): Promise<StreamInfo> {
  const s = subjects(options.prefix ?? DEFAULT_NATS_PREFIX);
  const duplicateWindowMs = Math.max(
    options.duplicateWindowMs ?? MIN_DUPLICATE_WINDOW_MS,
    MIN_DUPLICATE_WINDOW_MS,
  );
  const maxAgeMs = options.maxAgeMs ?? 7 * DAY_MS;
  if (maxAgeMs < duplicateWindowMs) throw new Error('events stream maxAgeMs < duplicate window');
  const limits = {
    subjects: [s.eventsWildcard],
    max_age: nanos(maxAgeMs),
    max_bytes: options.maxBytes ?? -1,
    duplicate_window: nanos(duplicateWindowMs),
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas ?? 1,
  };
  return addOrUpdateStream(options.connection, s.eventsStream, limits);
}

export interface DeadLetterStreamOptions {
  connection: NatsConnection;
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** Retention by age; default 30 days. */
  maxAgeMs?: number;
  /** Retention by count; default 100 000 (oldest go first: a flood of garbage is bounded). */
  maxMessages?: number;
  /** Replicas in a clustered JetStream; default 1. */
  replicas?: number;
}

/**
 * The dead-letter stream: every event a consumer gave up on, as it was on the wire, with why
 * in its headers (see JetStreamEventConsumer). Same create-or-update as the events stream.
 */
export async function ensureDeadLetterStream(
  options: DeadLetterStreamOptions,
): Promise<StreamInfo> {
  const s = subjects(options.prefix ?? DEFAULT_NATS_PREFIX);
  return addOrUpdateStream(options.connection, s.deadLettersStream, {
    subjects: [s.deadLettersWildcard],
    max_age: nanos(options.maxAgeMs ?? 30 * DAY_MS),
    max_msgs: options.maxMessages ?? 100_000,
    duplicate_window: nanos(MIN_DUPLICATE_WINDOW_MS),
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas ?? 1,
  });
}

/**
 * Creates a stream, or brings an existing one to these limits. Safe when every replica runs
 * it at once: creating a stream that exists with the same configuration succeeds, and a
 * differing one (an older deploy's) is updated instead.
 */
async function addOrUpdateStream(
  connection: NatsConnection,
  name: string,
  limits: Partial<StreamConfig> & { subjects: string[] },
): Promise<StreamInfo> {
  const jsm = await jetstreamManager(connection);
  try {
    return await jsm.streams.add({
      name,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      ...limits,
    });
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NAME_IN_USE) throw err;
    return jsm.streams.update(name, limits);
  }
}
