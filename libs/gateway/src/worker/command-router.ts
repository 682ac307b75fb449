import { type CommandReply, Commands } from '@wagw/contracts';
import { type CommandRegistration, handle } from '@wagw/messaging';
import type { HeldSession } from '../leases/lease.types.js';
import type { SessionRunner } from './session-runner.js';

/** What the command router needs of its worker. */
export interface GatewayCommandTarget {
  readonly gatewayId: string;
  runnerOf(sessionId: string): SessionRunner | undefined;
  /** Why no session can be taken now (`countCapacity`: a full worker refuses too), or null. */
  refusal(options: { countCapacity: boolean }): string | null;
  /** Claims one session now (`forAction`: only to unlink it). */
  claimOne(sessionId: string, forAction: boolean): Promise<HeldSession | undefined>;
  renewNow(): Promise<void>;
  drainNow(): Promise<number>;
}

/**
 * Lifecycle commands from the API, routed to the worker or to the session's runner. Message
 * commands are routed by `messageCommandHandlers` (message-command-router.ts).
 */
export function gatewayCommandHandlers(worker: GatewayCommandTarget): CommandRegistration[] {
  const notMine = {
    ok: false,
    reason: 'not_owner',
    message: `${worker.gatewayId} does not hold this session`,
  } as const;
  return [
    handle(
      Commands.claim,
      async ({ sessionId }): Promise<CommandReply<{ gatewayId: string; epoch: number }>> => {
        const mine = worker.runnerOf(sessionId);
        if (mine) return { ok: true, gatewayId: worker.gatewayId, epoch: mine.held.epoch };
        if (worker.refusal({ countCapacity: true }) !== null) {
          return {
            ok: false,
            reason: 'no_capacity',
            message: `${worker.gatewayId} has no capacity`,
          };
        }
        const row = await worker.claimOne(sessionId, false);
        return row ? { ok: true, gatewayId: worker.gatewayId, epoch: row.epoch } : notMine;
      },
    ),
    handle(Commands.logoutUnheld, async ({ sessionId }): Promise<CommandReply> => {
      const refusal = worker.refusal({ countCapacity: false });
      if (refusal !== null) return { ok: false, reason: 'no_capacity', message: refusal };
      const row = await worker.claimOne(sessionId, true);
      if (!row) return notMine;
      await worker.runnerOf(sessionId)?.done;
      return { ok: true };
    }),
    handle(Commands.stop, async ({ sessionId }): Promise<CommandReply> => {
      const runner = worker.runnerOf(sessionId);
      if (!runner) return notMine;
      await runner.stop('stop requested');
      return { ok: true };
    }),
    handle(Commands.restart, async ({ sessionId }): Promise<CommandReply> => {
      const runner = worker.runnerOf(sessionId);
      if (!runner) return notMine;
      await runner.restart();
      return { ok: true };
    }),
    handle(Commands.logout, async ({ sessionId }): Promise<CommandReply> => {
      const runner = worker.runnerOf(sessionId);
      if (!runner) return notMine;
      await runner.logout();
      return { ok: true };
    }),
    handle(
      Commands.pairingCode,
      async ({
        sessionId,
        phoneNumber,
      }): Promise<CommandReply<{ code: string; expiresAt: number }>> => {
        const runner = worker.runnerOf(sessionId);
        if (!runner) return notMine;
        try {
          return { ok: true, ...(await runner.requestPairingCode(phoneNumber)) };
        } catch (error) {
          return {
            ok: false,
            reason: 'not_connected',
            message: error instanceof Error ? error.message : 'no pairing connection',
          };
        }
      },
    ),
    handle(Commands.settingsChanged, async ({ sessionId }): Promise<CommandReply> => {
      if (!worker.runnerOf(sessionId)) return notMine;
      await worker.renewNow();
      return { ok: true };
    }),
    handle(Commands.drain, async (): Promise<CommandReply<{ released: number }>> => ({
      ok: true,
      released: await worker.drainNow(),
    })),
  ];
}
