import {
  EVENT_LIMITS,
  EVENT_TYPES,
  parseGatewayEvent,
  type AnyGatewayEvent,
  type EventType,
} from './events.js';
import {
  InvalidPayloadError,
  isRecord,
  matching,
  oneOf,
  record,
  text,
  timestampMs,
  ULID,
} from './wire-validation.js';

/**
 * Events the API itself puts on the events stream (not a gateway's): they concern the
 * organization, not one session, and carry no fence or state. WIRE-STABLE.
 */
export const API_EVENT_TYPES = ['webhook.disabled'] as const;
export type ApiEventType = (typeof API_EVENT_TYPES)[number];

/** Every type a client can see on the event stream and subscribe a webhook to. WIRE-STABLE. */
export const PUBLIC_EVENT_TYPES: readonly PublicEventType[] = [...EVENT_TYPES, ...API_EVENT_TYPES];
export type PublicEventType = EventType | ApiEventType;

export interface ApiEventDataMap {
  /** A webhook failed for longer than the configured time and was switched off. */
  'webhook.disabled': { webhookId: string; url: string; reason: 'failing'; failingSince: number };
}

export interface ApiEvent<T extends ApiEventType = ApiEventType> {
  /** ULID; also the JetStream message id (deduplicated). */
  id: string;
  type: T;
  organizationId: string;
  sessionId: null;
  occurredAt: number;
  data: ApiEventDataMap[T];
}

/**
 * An event as clients see it, on the SSE stream and in webhook deliveries
 * (spec/api-v1.md "Events"). Gateway events lose their fence and state snapshot: those are
 * the API's internals.
 */
export interface PublicEvent {
  id: string;
  type: PublicEventType;
  organizationId: string;
  sessionId: string | null;
  occurredAt: number;
  data: Record<string, unknown>;
}

export const isApiEventType = (type: unknown): type is ApiEventType =>
  typeof type === 'string' && (API_EVENT_TYPES as readonly string[]).includes(type);

export const isPublicEventType = (type: unknown): type is PublicEventType =>
  typeof type === 'string' && (PUBLIC_EVENT_TYPES as readonly string[]).includes(type);

/** The public projection: the six fields named explicitly, so an internal one never leaks. */
export function toPublicEvent(event: AnyGatewayEvent | ApiEvent): PublicEvent {
  return {
    id: event.id,
    type: event.type,
    organizationId: event.organizationId,
    sessionId: event.sessionId,
    occurredAt: event.occurredAt,
    data: event.data,
  };
}

/**
 * Validates an API event (the publisher's and the stream readers' boundary) as strictly as a
 * gateway event: ids in their formats, bounded text, timestamps Postgres can store. Throws
 * InvalidPayloadError naming the field.
 */
export function parseApiEvent(payload: unknown): ApiEvent {
  const o = record(payload, 'event');
  const type = oneOf(o.type, 'type', API_EVENT_TYPES);
  if (o.sessionId !== null) throw new InvalidPayloadError('sessionId must be null');
  const d = record(o.data, 'data');
  if (d.reason !== 'failing') throw new InvalidPayloadError('data.reason must be failing');
  return {
    id: matching(o.id, 'id', ULID, 'a ULID'),
    type,
    organizationId: text(o.organizationId, 'organizationId', EVENT_LIMITS.organizationId),
    sessionId: null,
    occurredAt: timestampMs(o.occurredAt, 'occurredAt'),
    data: {
      webhookId: matching(d.webhookId, 'data.webhookId', ULID, 'a ULID'),
      url: text(d.url, 'data.url', 2048),
      reason: 'failing',
      failingSince: timestampMs(d.failingSince, 'data.failingSince'),
    },
  };
}

/** Any event read off the stream, as clients may see it; throws on anything malformed. */
export function parsePublicEvent(payload: unknown): PublicEvent {
  return toPublicEvent(
    isRecord(payload) && isApiEventType(payload.type)
      ? parseApiEvent(payload)
      : parseGatewayEvent(payload),
  );
}
