import type { SessionStatus } from './session-status.js';

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
  'message.received': Record<string, unknown>;
  'message.sent': Record<string, unknown>;
  'message.ack': Record<string, unknown>;
  'channel.message': Record<string, unknown>;
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

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates an event read off the wire (the consumer's boundary). */
export function parseGatewayEvent(payload: unknown): AnyGatewayEvent {
  if (!isObject(payload)) throw new Error('event must be an object');
  const { id, type, organizationId, sessionId, occurredAt, data, fence } = payload;
  if (typeof id !== 'string' || typeof organizationId !== 'string' || typeof sessionId !== 'string')
    throw new Error('event ids must be strings');
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type))
    throw new Error(`unknown event type ${String(type)}`);
  if (typeof occurredAt !== 'number' || !isObject(data) || !isObject(fence))
    throw new Error('malformed event');
  if (
    typeof fence.gatewayId !== 'string' ||
    typeof fence.epoch !== 'number' ||
    typeof fence.seq !== 'number'
  )
    throw new Error('malformed event fence');
  const state = payload.state;
  if (!isObject(state) || typeof state.status !== 'string')
    throw new Error('malformed event state');
  return payload as unknown as AnyGatewayEvent;
}
