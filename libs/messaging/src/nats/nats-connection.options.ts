import { readFileSync } from 'node:fs';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  type Authenticator,
  type ConnectionOptions,
} from '@nats-io/transport-node';

/** Where and as whom to connect; everything else is policy fixed below. */
export interface NatsEndpoint {
  servers: string | string[];
  /** Connection name shown by `nats server report connections` (e.g. `gateway-<id>`). */
  name?: string;
  /** User and password (`authorization.users` in the server config). */
  user?: string;
  pass?: string;
  /** A token (`authorization.token`). */
  token?: string;
  /** A `.creds` file (user JWT + seed): re-read at every (re)connect, so it can be rotated. */
  credsFile?: string;
  /** A file holding an NKey user seed: re-read at every (re)connect. */
  nkeySeedFile?: string;
  /** TLS required; CA to trust and client certificate as PEM files (all optional). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /**
   * Prefix of this process's reply subjects (e.g. `_INBOX.wagw.api`), so the server's
   * permissions can give each role its own inbox: nobody reads another role's replies.
   */
  inboxPrefix?: string;
}

/**
 * One reconnect policy for every connection of this library (Nest's and JetStream's): never
 * give up (`maxReconnectAttempts: -1`), also on the first connect (`waitOnFirstConnect`), so a
 * process started before NATS, or riding out a NATS restart, just waits instead of dying with
 * queued events in memory. A 20 s ping notices half-open TCP connections in about a minute.
 * The one exception is the client's own: refused credentials twice in a row end the attempt
 * (at start that fails the process with the server's "Authorization Violation").
 */
export function natsConnectionOptions(endpoint: NatsEndpoint): ConnectionOptions {
  const authenticator = authenticatorFor(endpoint);
  return {
    servers: endpoint.servers,
    ...(endpoint.name === undefined ? {} : { name: endpoint.name }),
    ...(endpoint.user === undefined ? {} : { user: endpoint.user, pass: endpoint.pass }),
    ...(endpoint.token === undefined ? {} : { token: endpoint.token }),
    ...(authenticator ? { authenticator } : {}),
    ...(endpoint.tls === undefined ? {} : { tls: { ...endpoint.tls } }),
    ...(endpoint.inboxPrefix === undefined ? {} : { inboxPrefix: endpoint.inboxPrefix }),
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 1_000,
    reconnectJitter: 500,
    pingInterval: 20_000,
    maxPingOut: 3,
  };
}

function authenticatorFor(endpoint: NatsEndpoint): Authenticator | undefined {
  const { credsFile, nkeySeedFile } = endpoint;
  if (credsFile !== undefined) return credsAuthenticator(() => readFileSync(credsFile));
  if (nkeySeedFile !== undefined) {
    return nkeyAuthenticator(() =>
      new TextEncoder().encode(readFileSync(nkeySeedFile, 'utf8').trim()),
    );
  }
  return undefined;
}
