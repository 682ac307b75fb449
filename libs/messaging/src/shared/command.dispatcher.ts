import type { CommandRegistration } from '../messaging.ports.js';
import { commandErrorReply, type CommandErrorReply } from './command-error.reply.js';
import { describeError, type MessagingLogger } from './messaging.logger.js';
import { currentRequestId } from './request-context.js';

export type DispatchResult = { ok: true; reply: unknown } | { ok: false; error: CommandErrorReply };

/**
 * The server side of every transport: the payload off the wire goes through the contract's
 * `parse` (the boundary) before the handler sees it. Nothing thrown here escapes: a malformed
 * payload or a failing handler becomes an error reply, so a bad request can't crash a worker.
 */
export async function dispatchCommand(
  registration: CommandRegistration,
  payload: unknown,
  logger: MessagingLogger,
): Promise<DispatchResult> {
  const { command, handler } = registration;
  // A command sent while serving an HTTP request: log its correlation id on this side too.
  const requestId = currentRequestId();
  if (requestId !== undefined) logger.info({ command: command.pattern, requestId }, 'command');
  let parsed: unknown;
  try {
    parsed = command.parse(payload);
  } catch (err) {
    const reason = err instanceof Error ? err.message : describeError(err);
    logger.warn({ command: command.pattern, reason }, 'malformed command payload refused');
    return {
      ok: false,
      error: commandErrorReply(
        'invalid_payload',
        `invalid payload for ${command.pattern}: ${reason}`,
      ),
    };
  }
  try {
    return { ok: true, reply: await handler(parsed) };
  } catch (err) {
    logger.error({ command: command.pattern, err: describeError(err) }, 'command handler failed');
    return {
      ok: false,
      error: commandErrorReply(
        'handler_failed',
        `${command.pattern} failed: ${err instanceof Error ? err.message : describeError(err)}`,
      ),
    };
  }
}
