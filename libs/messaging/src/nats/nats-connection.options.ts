/** Where and as whom to connect; everything else is policy fixed below. */
export interface NatsEndpoint {
  servers: string | string[];
  /** Connection name shown by `nats server report connections` (e.g. `gateway-<id>`). */
  name?: string;
}

/**
 * One reconnect policy for every connection of this library (Nest's and JetStream's): never
 * give up (`maxReconnectAttempts: -1`), also on the first connect (`waitOnFirstConnect`), so a
 * process started before NATS, or riding out a NATS restart, just waits instead of dying with
 * queued events in memory. A 20 s ping notices half-open TCP connections in about a minute.
 */
export function natsConnectionOptions(endpoint: NatsEndpoint): {
  servers: string | string[];
  name?: string;
  maxReconnectAttempts: number;
  waitOnFirstConnect: boolean;
  reconnectTimeWait: number;
  reconnectJitter: number;
  pingInterval: number;
  maxPingOut: number;
} {
  return {
    servers: endpoint.servers,
    ...(endpoint.name === undefined ? {} : { name: endpoint.name }),
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 1_000,
    reconnectJitter: 500,
    pingInterval: 20_000,
    maxPingOut: 3,
  };
}
