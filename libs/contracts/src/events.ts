import {
  type MessageAckData,
  type MessageEventData,
  parseMessageAckData,
  parseMessageEventData,
} from './messages.js';
import { SESSION_STATUSES, type SessionStatus } from './session-status.js';
import {
  integer,
  matching,
  nullable,
  oneOf,
  record,
  text,
  timestampMs,
  ULID,
} from './wire-validation.js';

/** Event types of the public contract (spec/api-v1.md "Events"). WIRE-STABLE. */
export const EVENT_TYPES = [
  'session.status',
  'auth.qr',
  'auth.pairing_code',
  'session.paired',
  'session.logged_out',
  'message.received',
  'message.sent',
  'message.ack',
  'channel.message',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventDataMap {
  'session.status': { status: SessionStatus; gatewayId: string | null; reason: string | null };
  'auth.qr': { qr: string; expiresAt: number };
  'auth.pairing_code': { code: string; expiresAt: number; phoneNumber: string };
  'session.paired': { phoneNumber: string; waJid: string; waLid: string | null };
  'session.logged_out': { reason: string };
  'message.received': MessageEventData;
  'message.sent': MessageEventData;
  'message.ack': MessageAckData;
  'channel.message': MessageEventData;
}

/**
 * Where an event came from: the worker, its lease epoch and a per-(session, epoch) sequence.
 * The API folds an event into the session row only when `epoch` is the row's current lease
 * epoch and (epoch, seq) is newer than what it folded last: a stale owner changes nothing.
 */
export interface EventFence {
  gatewayId: string;
  epoch: number;
  seq: number;
}

/**
 * The whole state of the session as its holder knows it when the event is emitted. The API
 * folds the newest snapshot it has seen (by epoch + seq) into the row, so events may be
 * published and folded concurrently and out of order: an older snapshot simply loses.
 */
export interface SessionState {
  status: SessionStatus;
  gatewayId: string | null;
  reason: string | null;
  phoneNumber: string | null;
  waJid: string | null;
  waLid: string | null;
  qr: string | null;
  qrExpiresAt: number | null;
  /** When the connection last reached `working`, as the holder saw it. */
  lastConnectedAt: number | null;
}

export interface GatewayEvent<T extends EventType = EventType> {
  /** ULID; also the JetStream message id, so a retried publish is deduplicated. */
  id: string;
  type: T;
  organizationId: string;
  sessionId: string;
  occurredAt: number;
  data: EventDataMap[T];
  fence: EventFence;
  state: SessionState;
}

export type AnyGatewayEvent = { [T in EventType]: GatewayEvent<T> }[EventType];

/** Limits of the wire format; generous, so that no real value meets them. */
export const EVENT_LIMITS = {
  organizationId: 256,
  reason: 4096,
  qr: 4096,
  jid: 256,
  pairingCode: 64,
} as const;

const GATEWAY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PHONE_NUMBER = /^\d{5,20}$/;

const gatewayId = (v: unknown, field: string): string =>
  matching(v, field, GATEWAY_ID, 'a gateway id (letters, digits, - and _, 1-64)');
const phoneNumber = (v: unknown, field: string): string =>
  matching(v, field, PHONE_NUMBER, 'a phone number (5-20 digits)');
const jid = (v: unknown, field: string): string => text(v, field, EVENT_LIMITS.jid);
const status = (v: unknown, field: string): SessionStatus => oneOf(v, field, SESSION_STATUSES);

function parseFence(payload: unknown): EventFence {
  const o = record(payload, 'fence');
  return {
    gatewayId: gatewayId(o.gatewayId, 'fence.gatewayId'),
    // Both are Postgres bigints in the fold; a claim makes the first epoch 1, an event seq 1.
    epoch: integer(o.epoch, 'fence.epoch', 1, Number.MAX_SAFE_INTEGER),
    seq: integer(o.seq, 'fence.seq', 1, Number.MAX_SAFE_INTEGER),
  };
}

function parseState(payload: unknown): SessionState {
  const o = record(payload, 'state');
  return {
    status: status(o.status, 'state.status'),
    gatewayId: nullable(o.gatewayId, (v) => gatewayId(v, 'state.gatewayId')),
    reason: nullable(o.reason, (v) => text(v, 'state.reason', EVENT_LIMITS.reason)),
    phoneNumber: nullable(o.phoneNumber, (v) => phoneNumber(v, 'state.phoneNumber')),
    waJid: nullable(o.waJid, (v) => jid(v, 'state.waJid')),
    waLid: nullable(o.waLid, (v) => jid(v, 'state.waLid')),
    qr: nullable(o.qr, (v) => text(v, 'state.qr', EVENT_LIMITS.qr)),
    qrExpiresAt: nullable(o.qrExpiresAt, (v) => timestampMs(v, 'state.qrExpiresAt')),
    lastConnectedAt: nullable(o.lastConnectedAt, (v) => timestampMs(v, 'state.lastConnectedAt')),
  };
}

/** Each event type's `data`, checked as strictly as the fold and the public contract need. */
const DATA_PARSERS: { [T in EventType]: (data: Record<string, unknown>) => EventDataMap[T] } = {
  'session.status': (d) => ({
    status: status(d.status, 'data.status'),
    gatewayId: nullable(d.gatewayId, (v) => gatewayId(v, 'data.gatewayId')),
    reason: nullable(d.reason, (v) => text(v, 'data.reason', EVENT_LIMITS.reason)),
  }),
  'auth.qr': (d) => ({
    qr: text(d.qr, 'data.qr', EVENT_LIMITS.qr),
    expiresAt: timestampMs(d.expiresAt, 'data.expiresAt'),
  }),
  'auth.pairing_code': (d) => ({
    code: text(d.code, 'data.code', EVENT_LIMITS.pairingCode),
    expiresAt: timestampMs(d.expiresAt, 'data.expiresAt'),
    phoneNumber: phoneNumber(d.phoneNumber, 'data.phoneNumber'),
  }),
  'session.paired': (d) => ({
    phoneNumber: phoneNumber(d.phoneNumber, 'data.phoneNumber'),
    waJid: jid(d.waJid, 'data.waJid'),
    waLid: nullable(d.waLid, (v) => jid(v, 'data.waLid')),
  }),
  'session.logged_out': (d) => ({ reason: text(d.reason, 'data.reason', EVENT_LIMITS.reason) }),
  'message.received': parseMessageEventData,
  'message.sent': parseMessageEventData,
  'message.ack': parseMessageAckData,
  'channel.message': parseMessageEventData,
};

/**
 * Validates an event read off the wire (the consumer's boundary) and returns a copy holding
 * only the fields of the contract: ids in their formats, integers where the fold casts to
 * bigint, timestamps Postgres can store, statuses it knows, bounded text without NUL. Whatever
 * fails here could only fail later, in the fold, on every redelivery. Throws
 * InvalidPayloadError naming the field.
 */
export function parseGatewayEvent(payload: unknown): AnyGatewayEvent {
  const o = record(payload, 'event');
  const type = oneOf(o.type, 'type', EVENT_TYPES);
  return {
    id: matching(o.id, 'id', ULID, 'a ULID'),
    type,
    organizationId: text(o.organizationId, 'organizationId', EVENT_LIMITS.organizationId),
    sessionId: matching(o.sessionId, 'sessionId', ULID, 'a ULID'),
    occurredAt: timestampMs(o.occurredAt, 'occurredAt'),
    data: DATA_PARSERS[type](record(o.data, 'data')),
    fence: parseFence(o.fence),
    state: parseState(o.state),
  } as AnyGatewayEvent;
}
