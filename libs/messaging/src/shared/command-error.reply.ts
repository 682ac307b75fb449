/**
 * Wire shape of a refused command (a Nest packet's `err`, or the in-process equivalent). It is
 * tagged so the client can tell "a gateway answered: your request is wrong / its handler threw"
 * (a plain Error: retrying the same request won't help) from transport trouble (no responders,
 * connection lost, Nest's own "no handler" packet), which is CommandUnavailableError.
 */
export type CommandErrorCode = 'invalid_payload' | 'handler_failed';

export interface CommandErrorReply {
  wagwCommandError: CommandErrorCode;
  message: string;
}

export function commandErrorReply(code: CommandErrorCode, message: string): CommandErrorReply {
  return { wagwCommandError: code, message };
}

export function isCommandErrorReply(value: unknown): value is CommandErrorReply {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.wagwCommandError === 'invalid_payload' || v.wagwCommandError === 'handler_failed') &&
    typeof v.message === 'string'
  );
}

/** What `request()` rejects with when a gateway refused the command. */
export function errorFromReply(reply: CommandErrorReply): Error {
  return new Error(reply.message);
}
