import { Inject, Injectable, Logger } from '@nestjs/common';
import { type CommandContract, type CommandReply, Commands } from '@wagw/contracts';
import { unavailable } from '@wagw/domain';
import { type CommandClient, CommandUnavailableError } from '@wagw/messaging';
import { ApiConfig } from '../config/api-config.js';
import { COMMAND_CLIENT } from '../messaging/messaging.tokens.js';

/** A fleet command may land on a full worker (queue group): ask again, another may take it. */
const CLAIM_ATTEMPTS = 3;

/** Where an owner command goes and how long it may take (default COMMAND_TIMEOUT_MS). */
export interface CommandTarget {
  gatewayId?: string;
  timeoutMs?: number;
}

/**
 * The API's one seam to the gateway fleet. Every call site picks a named error policy instead of
 * handling transport errors itself:
 * - `request` — the answer is needed: no answer in time is `503 unavailable` (safe to retry);
 * - `ask` — the answer is wanted but optional: no answer reads as a `failed` reply;
 * - `tell` — best effort, confirmed or not (desired state in Postgres is the truth): a boolean;
 * - `nudge` — fire and forget, nothing awaited;
 * - `claim` — retried across workers while they are full or racing;
 * - `claimOrUndo` — a claim whose failure (503) first undoes what the caller wrote.
 */
@Injectable()
export class FleetCommands {
  private readonly logger = new Logger(FleetCommands.name);

  constructor(
    @Inject(COMMAND_CLIENT) private readonly commands: CommandClient,
    @Inject(ApiConfig) private readonly config: ApiConfig,
  ) {}

  get timeoutMs(): number {
    return this.config.COMMAND_TIMEOUT_MS;
  }

  /** The reply, or `503 unavailable` when no gateway answered in time. */
  async request<Req, Res>(
    command: CommandContract<Req, Res>,
    payload: Req,
    target: CommandTarget = {},
  ): Promise<Res> {
    try {
      return await this.commands.request(command, payload, {
        gatewayId: target.gatewayId,
        timeoutMs: target.timeoutMs ?? this.config.COMMAND_TIMEOUT_MS,
      });
    } catch (error) {
      if (error instanceof CommandUnavailableError)
        throw unavailable('no gateway took the command in time; safe to retry');
      throw error;
    }
  }

  /** The reply, or a `failed` reply when none came: the caller falls back on its own path. */
  async ask<Req, Res extends CommandReply<object>>(
    command: CommandContract<Req, Res>,
    payload: Req,
    target: CommandTarget = {},
  ): Promise<Res | CommandReply> {
    try {
      return await this.request(command, payload, target);
    } catch {
      return { ok: false, reason: 'failed', message: 'no reply' };
    }
  }

  /** Best effort: whether the holder confirmed; a lost command is applied by lease renewal. */
  async tell<Req>(
    command: CommandContract<Req, CommandReply>,
    payload: Req,
    target: CommandTarget,
  ): Promise<boolean> {
    try {
      const reply = await this.commands.request(command, payload, {
        gatewayId: target.gatewayId,
        timeoutMs: target.timeoutMs ?? this.config.COMMAND_TIMEOUT_MS,
      });
      return reply.ok;
    } catch (error) {
      this.logger.warn(
        `${command.pattern} not confirmed (${(error as Error).message}); the next lease renewal or heartbeat applies it`,
      );
      return false;
    }
  }

  /** Fire and forget: nothing waits for the holder; a failure is only logged. */
  nudge<Req>(
    command: CommandContract<Req, CommandReply>,
    payload: Req,
    target: CommandTarget,
  ): void {
    void this.tell(command, payload, target);
  }

  /** A claim nudge whose outcome nobody waits for (the fleet also claims by polling). */
  nudgeClaim(sessionId: string): void {
    void this.claim(sessionId).catch((error: unknown) =>
      this.logger.debug(`claim nudge for ${sessionId} not taken: ${(error as Error).message}`),
    );
  }

  /** Claims through the fleet, asking again while workers are full or racing; the holder's id. */
  async claim(sessionId: string): Promise<string> {
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const reply = await this.commands.request(
        Commands.claim,
        { sessionId },
        { timeoutMs: this.config.COMMAND_TIMEOUT_MS },
      );
      if (reply.ok) return reply.gatewayId;
      // `not_owner`: a peer's claim got there first (or is committing): ask again.
      if (reply.reason !== 'no_capacity' && reply.reason !== 'not_owner') break;
    }
    throw new CommandUnavailableError('no gateway with capacity claimed the session');
  }

  /**
   * Claims; when no gateway takes it in time, `undo` runs and decides: a gateway id (a peer
   * holds it after all) is returned, `null` means undone and answers `503 unavailable`.
   */
  async claimOrUndo(sessionId: string, undo: () => Promise<string | null>): Promise<string> {
    try {
      return await this.claim(sessionId);
    } catch (error) {
      if (!(error instanceof CommandUnavailableError)) throw error;
      const holder = await undo();
      if (holder !== null) return holder;
      throw unavailable('no gateway took the session in time; safe to retry');
    }
  }
}
