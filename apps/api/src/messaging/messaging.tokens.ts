/** DI tokens for the transport picked at start (NATS, or the in-process broker of `npm start`). */
export const COMMAND_CLIENT = Symbol('COMMAND_CLIENT');
export const EVENT_CONSUMER = Symbol('EVENT_CONSUMER');
