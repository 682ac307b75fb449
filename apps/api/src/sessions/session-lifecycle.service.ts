import { Inject, Injectable } from '@nestjs/common';
import { type CommandContract, type CommandReply, Commands } from '@wagw/contracts';
import {
  type DomainError,
  failedPrecondition,
  notFound,
  type Principal,
  rateLimited,
  unavailable,
} from '@wagw/domain';
import { ApiConfig } from '../config/api-config.js';
import { FleetCommands } from '../fleet/fleet-commands.service.js';
import { SessionResponse } from './dto/session.response.js';
import { type SessionRecord, SessionsRepository } from './sessions.repository.js';

const QR_POLL_MS = 100;
const LOGOUT_TIMEOUT_MS = 15_000;

/** A gateway holds it now: a live lease by the database's clock. */
export const isHeld = (s: SessionRecord): boolean => s.leaseLive && s.gatewayId !== null;

/**
 * The lifecycle of sessions: writes the desired state (the truth the fleet converges on), then
 * nudges the fleet over the command transport for speed. A lost nudge delays, never breaks:
 * workers poll for claimable sessions and see desired state at every lease renewal.
 */
@Injectable()
export class SessionLifecycleService {
  constructor(
    @Inject(SessionsRepository) private readonly repository: SessionsRepository,
    @Inject(FleetCommands) private readonly fleet: FleetCommands,
    @Inject(ApiConfig) private readonly config: ApiConfig,
  ) {}

  /** `POST /sessions` with `start: true`: a best-effort nudge; the create itself has succeeded. */
  nudgeClaim(sessionId: string): void {
    // Usually a worker's own poll got there first; either way the fleet claims it by polling.
    this.fleet.nudgeClaim(sessionId);
  }

  /** PATCH: the holder re-reads settings now rather than at its next renewal. */
  nudgeSettings(session: SessionRecord): void {
    if (isHeld(session)) void this.tell(Commands.settingsChanged, session);
  }

  async start(principal: Principal, id: string): Promise<SessionResponse> {
    const session = await this.find(principal, id);
    if (!session.phoneNumber) {
      throw failedPrecondition(
        'the session is not paired: pair it through GET /qr or POST /pairing-code',
        { reason: 'not_paired' },
      );
    }
    return this.run(principal, session);
  }

  async stop(principal: Principal, id: string): Promise<SessionResponse> {
    const session = await this.find(principal, id);
    const held = isHeld(session);
    let updated = await this.repository.setDesired(
      principal.organizationId,
      id,
      'stopped',
      held ? undefined : 'stopped',
    );
    // Confirmed by the holder: the connection is closed now, whenever its event is folded.
    if (held && (await this.tell(Commands.stop, session))) {
      updated = await this.repository.setDesired(
        principal.organizationId,
        id,
        'stopped',
        'stopped',
      );
    }
    return this.refreshed(updated);
  }

  async restart(principal: Principal, id: string): Promise<SessionResponse> {
    const session = await this.find(principal, id);
    if (!session.phoneNumber) {
      throw failedPrecondition(
        'the session is not paired: pair it through GET /qr or POST /pairing-code',
        { reason: 'not_paired' },
      );
    }
    if (session.desiredState === 'running' && isHeld(session)) {
      const reply = await this.ask(Commands.restart, session);
      if (reply.ok)
        return this.refreshed(await this.repository.findOne(principal.organizationId, id));
    }
    return this.run(principal, session, true);
  }

  async logout(principal: Principal, id: string): Promise<SessionResponse> {
    const session = await this.find(principal, id);
    await this.unlink(principal, session);
    return this.refreshed(await this.repository.findOne(principal.organizationId, id));
  }

  /** `DELETE`: unlink the device if paired, then remove the row and its auth state. */
  async delete(principal: Principal, id: string): Promise<void> {
    const session = await this.find(principal, id);
    await this.unlink(principal, session);
    await this.repository.delete(principal.organizationId, id);
  }

  /** The current QR code; `startPairing` (GET, not HEAD) starts QR pairing when none runs. */
  async qr(
    principal: Principal,
    id: string,
    options: { startPairing: boolean },
  ): Promise<{ qr: string; expiresAt: number }> {
    const session = await this.find(principal, id);
    if (session.phoneNumber)
      throw failedPrecondition('the session is already paired', { reason: 'paired' });
    const fresh = (s: SessionRecord): boolean =>
      s.qr !== null && s.qrExpiresAt !== null && s.qrExpiresAt.getTime() > Date.now();
    if (fresh(session)) return { qr: session.qr!, expiresAt: session.qrExpiresAt!.getTime() };
    if (!options.startPairing) {
      throw failedPrecondition('no QR code now: GET /qr starts QR pairing', {
        reason: 'not_pairing',
      });
    }
    if (session.desiredState !== 'running' || !isHeld(session)) {
      await this.wantPairing(principal, session);
      // The undo of a failed claim puts back the wish as it was before this request.
      await this.claimOrUndo(principal, session);
    }
    const deadline = Date.now() + this.config.QR_WAIT_MS;
    for (;;) {
      const current = await this.repository.findOne(principal.organizationId, id);
      if (!current) throw notFound('session');
      if (current.phoneNumber)
        throw failedPrecondition('the session is already paired', { reason: 'paired' });
      if (fresh(current)) return { qr: current.qr!, expiresAt: current.qrExpiresAt!.getTime() };
      if (Date.now() >= deadline)
        throw unavailable('no QR code yet: the gateway has not received one in time; retry');
      await new Promise((r) => setTimeout(r, QR_POLL_MS));
    }
  }

  async pairingCode(
    principal: Principal,
    id: string,
    phoneNumber: string,
  ): Promise<{ code: string; expiresAt: number }> {
    let session = await this.find(principal, id);
    if (session.phoneNumber)
      throw failedPrecondition('the session is already paired', { reason: 'paired' });
    const before = session;
    if (session.desiredState !== 'running' || !isHeld(session)) {
      session = (await this.wantPairing(principal, session)) ?? session;
    }
    const gatewayId = isHeld(session)
      ? session.gatewayId!
      : await this.claimOrUndo(principal, before);
    const reply = await this.request(
      Commands.pairingCode,
      { sessionId: id, phoneNumber },
      gatewayId,
      this.config.COMMAND_TIMEOUT_MS * 3,
    );
    if (!reply.ok)
      throw unavailable(`the gateway could not request a pairing code: ${reply.message}`);
    return { code: reply.code, expiresAt: reply.expiresAt };
  }

  pairingQuotaError(): DomainError {
    return rateLimited(
      `the organization is already pairing ${this.config.ORG_MAX_PAIRING} sessions: ` +
        'finish or stop one of them first',
      { reason: 'pairing_quota', limit: this.config.ORG_MAX_PAIRING },
    );
  }

  // --- internals ------------------------------------------------------------------------------

  /** An unpaired session starts pairing: a new pairing counts against the organization's quota. */
  private async wantPairing(
    principal: Principal,
    session: SessionRecord,
  ): Promise<SessionRecord | null> {
    if (session.desiredState === 'running')
      return this.repository.setDesired(principal.organizationId, session.id, 'running');
    const result = await this.repository.startPairingWithinQuota(
      principal.organizationId,
      session.id,
      this.config.ORG_MAX_PAIRING,
      'starting',
    );
    if (result === 'pairing_quota') throw this.pairingQuotaError();
    return result;
  }

  private async find(principal: Principal, id: string): Promise<SessionRecord> {
    const session = await this.repository.findOne(principal.organizationId, id);
    if (!session) throw notFound('session');
    return session;
  }

  /** Make it run: idempotent while it already runs; else desired running + a claim nudge. */
  private async run(
    principal: Principal,
    session: SessionRecord,
    restart = false,
  ): Promise<SessionResponse> {
    if (!restart && session.desiredState === 'running' && isHeld(session))
      return SessionResponse.from(session);
    const updated =
      (await this.repository.setDesired(
        principal.organizationId,
        session.id,
        'running',
        isHeld(session) ? undefined : 'starting',
      )) ?? session;
    if (!isHeld(updated)) await this.claimOrUndo(principal, session);
    return this.refreshed(await this.repository.findOne(principal.organizationId, session.id));
  }

  /** Claims through the fleet; when no gateway takes it in time, puts the old wish back (503). */
  private claimOrUndo(principal: Principal, before: SessionRecord): Promise<string> {
    return this.fleet.claimOrUndo(before.id, async () => {
      const current = await this.repository.findOne(principal.organizationId, before.id);
      // Raced with another claim (the `start: true` nudge, a worker's poll): a peer holds it now.
      if (current && isHeld(current)) return current.gatewayId!;
      if (current) {
        await this.repository.setDesired(
          principal.organizationId,
          before.id,
          before.desiredState,
          before.status,
        );
      }
      return null;
    });
  }

  /** Unlink: on the holder if held, else through any worker; unpaired sessions just stop. */
  private async unlink(principal: Principal, session: SessionRecord): Promise<void> {
    const held = isHeld(session);
    await this.repository.setDesired(
      principal.organizationId,
      session.id,
      'stopped',
      held ? undefined : 'stopped',
    );
    if (!session.phoneNumber) {
      if (held && (await this.tell(Commands.stop, session))) {
        await this.repository.setDesired(
          principal.organizationId,
          session.id,
          'stopped',
          'stopped',
        );
      }
      return;
    }
    const reply = held
      ? await this.request(
          Commands.logout,
          { sessionId: session.id },
          session.gatewayId!,
          LOGOUT_TIMEOUT_MS,
        )
      : await this.request(
          Commands.logoutUnheld,
          { sessionId: session.id },
          undefined,
          LOGOUT_TIMEOUT_MS,
        );
    if (!reply.ok)
      throw unavailable(`the device could not be unlinked now (${reply.message}); safe to retry`);
    await this.repository.clearPairing(principal.organizationId, session.id);
  }

  /** Best effort: the renewal honours the desired state even if this is lost. */
  private tell(
    command: CommandContract<{ sessionId: string }, CommandReply>,
    session: SessionRecord,
  ): Promise<boolean> {
    return this.fleet.tell(command, { sessionId: session.id }, { gatewayId: session.gatewayId! });
  }

  private ask(
    command: CommandContract<{ sessionId: string }, CommandReply>,
    session: SessionRecord,
  ): Promise<CommandReply> {
    return this.fleet.ask(command, { sessionId: session.id }, { gatewayId: session.gatewayId! });
  }

  private request<Req, Res>(
    command: CommandContract<Req, Res>,
    payload: Req,
    gatewayId: string | undefined,
    timeoutMs: number,
  ): Promise<Res> {
    return this.fleet.request(command, payload, { gatewayId, timeoutMs });
  }

  private refreshed(row: SessionRecord | null): SessionResponse {
    if (!row) throw notFound('session');
    return SessionResponse.from(row);
  }
}
