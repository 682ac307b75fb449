/** DI tokens for the transport picked at start (NATS, or the in-process broker of `npm start`). */
export const COMMAND_CLIENT = Symbol('COMMAND_CLIENT');
export const EVENT_CONSUMER = Symbol('EVENT_CONSUMER');
/** `{ connected }` of the NATS transport, or null with the in-process one (nothing to reach). */
export const NATS_HEALTH = Symbol('NATS_HEALTH');

export interface NatsHealth {
  readonly connected: boolean;
}
/** The events stream read by position (SSE, webhook intake) and written by the API's own events. */
export const EVENT_STREAM = Symbol('EVENT_STREAM');
