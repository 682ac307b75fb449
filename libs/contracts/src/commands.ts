import { parseSendMessageRequest, type SendMessageRequest } from './messages.js';
import { InvalidPayloadError, record } from './wire-validation.js';

/**
 * Lifecycle commands from the API to the gateway fleet (request/reply). A command is a value
 * carrying its pattern, its scope and its payload types, never a bare string at a call site.
 * Commands are nudges for speed: correctness comes from desired state + leases in Postgres.
 */
export type CommandScope = 'fleet' | 'owner';

export interface CommandContract<Req, Res> {
  /** WIRE-STABLE pattern, appended to the scope's subject. */
  readonly pattern: string;
  readonly scope: CommandScope;
  /** Validates an inbound payload (the NATS boundary): throws on anything malformed. */
  readonly parse: (payload: unknown) => Req;
  /** Type carrier only. */
  readonly _res?: Res;
}

export const defineCommand = <Req, Res>(
  pattern: string,
  scope: CommandScope,
  parse: (payload: unknown) => Req,
): CommandContract<Req, Res> => ({ pattern, scope, parse });

export type CommandRequest<C> = C extends CommandContract<infer R, unknown> ? R : never;
export type CommandResponse<C> = C extends CommandContract<unknown, infer R> ? R : never;

/** Every reply says whether it worked; a refusal carries a reason the API maps to a status. */
export type CommandReply<T = object> =
  | ({ ok: true } & T)
  | {
      ok: false;
      reason:
        | 'not_owner'
        | 'no_capacity'
        | 'not_connected'
        | 'not_paired'
        | 'paired'
        | 'failed'
        | 'unsupported'
        | 'invalid';
      message: string;
    };

const str = (o: Record<string, unknown>, key: string): string => {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 200)
    throw new InvalidPayloadError(`${key} must be a non-empty string`);
  return v;
};

export interface SessionRef {
  sessionId: string;
}
const sessionRef = (p: unknown): SessionRef => ({ sessionId: str(record(p), 'sessionId') });

export const Commands = {
  /** Fleet: claim this session now if you have capacity (it must want to run). */
  claim: defineCommand<SessionRef, CommandReply<{ gatewayId: string; epoch: number }>>(
    'session.claim',
    'fleet',
    sessionRef,
  ),
  /** Fleet: unlink an unheld, paired session (claim it briefly, log out, release). */
  logoutUnheld: defineCommand<SessionRef, CommandReply>('session.logout', 'fleet', sessionRef),
  /** Owner: close the connection and release the lease (desired state is already `stopped`). */
  stop: defineCommand<SessionRef, CommandReply>('session.stop', 'owner', sessionRef),
  /** Owner: reconnect, keeping the lease and the pairing. */
  restart: defineCommand<SessionRef, CommandReply>('session.restart', 'owner', sessionRef),
  /** Owner: unlink the device, wipe auth state, release. */
  logout: defineCommand<SessionRef, CommandReply>('session.logout', 'owner', sessionRef),
  /** Owner: request a phone pairing code on the pairing connection. */
  pairingCode: defineCommand<
    SessionRef & { phoneNumber: string },
    CommandReply<{ code: string; expiresAt: number }>
  >('session.pairing_code', 'owner', (p) => {
    const o = record(p);
    const phoneNumber = str(o, 'phoneNumber');
    if (!/^\d{6,15}$/.test(phoneNumber))
      throw new InvalidPayloadError('phoneNumber must be 6-15 digits');
    return { sessionId: str(o, 'sessionId'), phoneNumber };
  }),
  /** Owner: settings changed; re-read them now instead of at the next renewal. */
  settingsChanged: defineCommand<SessionRef, CommandReply>('session.settings', 'owner', sessionRef),
  /** Owner: send one message on the session's open connection. */
  sendMessage: defineCommand<
    SendMessageRequest,
    CommandReply<{ id: string; chatJid: string; timestamp: number }>
  >('message.send', 'owner', parseSendMessageRequest),
  /** Addressed by gateway id: hand every session to peers and claim no more. */
  drain: defineCommand<Record<string, never>, CommandReply<{ released: number }>>(
    'gateway.drain',
    'owner',
    (p) => {
      record(p);
      return {};
    },
  ),
} as const;
