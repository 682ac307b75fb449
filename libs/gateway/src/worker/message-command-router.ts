import { type CommandReply, Commands } from '@wagw/contracts';
import { type CommandRegistration, handle } from '@wagw/messaging';
import type { GatewayCommandTarget } from './command-router.js';
import { SendRefusedError } from './message-handler.js';

/** Message commands from the API, routed to the holder's runner (its message handler). */
export function messageCommandHandlers(
  worker: Pick<GatewayCommandTarget, 'gatewayId' | 'runnerOf'>,
): CommandRegistration[] {
  return [
    handle(
      Commands.sendMessage,
      async (
        request,
      ): Promise<CommandReply<{ id: string; chatJid: string; timestamp: number }>> => {
        const runner = worker.runnerOf(request.sessionId);
        if (!runner) {
          return {
            ok: false,
            reason: 'not_owner',
            message: `${worker.gatewayId} does not hold this session`,
          };
        }
        try {
          const sent = await runner.sendMessage(request);
          return { ok: true, id: sent.id, chatJid: sent.chatJid, timestamp: sent.timestamp };
        } catch (error) {
          if (error instanceof SendRefusedError)
            return { ok: false, reason: error.reason, message: error.message };
          throw error;
        }
      },
    ),
  ];
}
