import type { EventDataMap, EventType, SendMessageRequest, SessionState } from '@wagw/contracts';
import {
  type WaAuthStore,
  type WaChannelMessage,
  type WaConnection,
  type WaConnectionFactory,
  type WaConnectionListener,
  type WaIdentity,
  type WaInboundMessage,
  type WaReceipt,
  type WaSendResult,
} from '@wagw/whatsapp';
import type { Logger } from 'pino';
import type { HeldSession } from '../leases/lease.types.js';
import { MessageHandler, SendRefusedError } from './message-handler.js';
import {
  actionForClose,
  type BackoffOptions,
  backoffDelay,
  QR_TIMEOUT_REASON,
} from './reconnect-policy.js';

export interface RunnerContext {
  gatewayId: string;
  factory: WaConnectionFactory;
  auth: WaAuthStore;
  backoff: BackoffOptions;
  logger: Logger;
  /** Publishes the event if, and only if, this runner still validly holds its lease. */
  emit<T extends EventType>(type: T, data: EventDataMap[T], state: SessionState): void;
  /** Like emit, resolving once durable; rejects when the lease is no longer validly held. */
  emitDurably<T extends EventType>(
    type: T,
    data: EventDataMap[T],
    state: SessionState,
  ): Promise<void>;
  /** Clears the lease (fenced); `stopDesired` also records that the session should not run. */
  release(options: { stopDesired: boolean }): Promise<void>;
  /** The runner is done (released or fenced off): the worker forgets it. */
  finished(): void;
}

type RunnerState = 'connecting' | 'pairing' | 'open' | 'waiting' | 'finished';

const PAIRING_WAIT_MS = 8_000;

/**
 * Drives one held session: its single-use WhatsApp connections, the reconnect policy, and the
 * events that describe it. It never touches the lease itself: the worker renews it and calls
 * `fence()` the moment it is lost, after which the runner emits and writes nothing.
 */
export class SessionRunner implements WaConnectionListener {
  private state: RunnerState = 'connecting';
  private connection: WaConnection | null = null;
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** We are closing on purpose: a close event is ours, not the network's. */
  private ending = false;
  private paired: boolean;
  private lastStatus: EventDataMap['session.status']['status'] | null = null;
  // What every event carries (SessionState): the API folds the newest snapshot it sees.
  private statusReason: string | null = null;
  private holderId: string | null;
  private identity: WaIdentity | null;
  private currentQr: { qr: string; expiresAt: number } | null = null;
  private lastConnectedAt: number | null = null;
  private readonly stateWaiters = new Set<() => void>();
  private readonly messages: MessageHandler;
  private resolveDone!: () => void;
  /** Resolves once the runner has released its lease or been fenced off. */
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(
    readonly held: HeldSession,
    private readonly ctx: RunnerContext,
    /** `logout`: claimed only to unlink a stopped, paired session. */
    private readonly purpose: 'run' | 'logout' = 'run',
  ) {
    this.paired = held.paired;
    this.holderId = ctx.gatewayId;
    this.identity = held.phoneNumber
      ? {
          phoneNumber: held.phoneNumber,
          waJid: held.waJid ?? `${held.phoneNumber}@s.whatsapp.net`,
          waLid: held.waLid,
        }
      : null;
    this.messages = new MessageHandler({
      sessionId: held.sessionId,
      logger: ctx.logger,
      connection: () => (this.state === 'open' ? this.connection : null),
      ownJid: () => this.identity?.waJid ?? null,
      settings: () => ({ autoRead: held.autoRead, presenceTyping: held.presenceTyping }),
      emitDurably: (type, data) => this.ctx.emitDurably(type, data, this.snapshot()),
      emit: (type, data) => this.emit(type, data),
    });
  }

  get sessionId(): string {
    return this.held.sessionId;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Claimed only to unlink the device: its desired state is `stopped` on purpose. */
  get isLoggingOut(): boolean {
    return this.purpose === 'logout';
  }

  start(): void {
    // Claimed only to unlink a stopped session: it is not starting, and must not look like it.
    if (this.purpose === 'run') this.status('starting', null);
    this.connect();
  }

  // --- commands -------------------------------------------------------------------------------

  /** Close and release; the session stays paired. */
  async stop(reason: string): Promise<void> {
    if (this.state === 'finished') return;
    await this.closeConnection();
    this.status('stopped', reason);
    await this.finish({ stopDesired: false });
  }

  /** Reconnect in place, keeping the lease and the pairing. */
  async restart(): Promise<void> {
    if (this.state === 'finished') return;
    await this.closeConnection();
    this.ending = false;
    this.attempts = 0;
    this.status('starting', 'restart');
    this.connect();
  }

  /** Unlink the device on the network, wipe auth, release with the session stopped. */
  async logout(reason = 'logout requested'): Promise<void> {
    if (this.state === 'finished') return;
    const connection = this.connection;
    this.ending = true;
    clearTimeout(this.retryTimer);
    if (connection && this.state === 'open') {
      await connection
        .logout()
        .catch((error: unknown) =>
          this.ctx.logger.warn(
            { err: error, sessionId: this.sessionId },
            'logout on the network failed',
          ),
        );
    } else {
      await connection?.close().catch(() => undefined);
    }
    this.connection = null;
    await this.ctx.auth
      .clear()
      .catch((error: unknown) =>
        this.ctx.logger.warn(
          { err: error, sessionId: this.sessionId },
          'could not wipe auth state',
        ),
      );
    this.loggedOut(reason);
    await this.finish({ stopDesired: true });
  }

  async requestPairingCode(phoneNumber: string): Promise<{ code: string; expiresAt: number }> {
    if (this.paired) throw new Error('already paired');
    await this.waitFor(
      () => this.state === 'pairing' || this.state === 'finished' || this.state === 'open',
      PAIRING_WAIT_MS,
    );
    if (this.state !== 'pairing' || !this.connection) throw new Error('no pairing connection');
    const result = await this.connection.requestPairingCode(phoneNumber);
    this.emit('auth.pairing_code', {
      code: result.code,
      expiresAt: result.expiresAt,
      phoneNumber,
    });
    return result;
  }

  /** The lease is gone: close at once, emit nothing, write nothing. */
  fence(): void {
    if (this.state === 'finished') return;
    this.ending = true;
    clearTimeout(this.retryTimer);
    const connection = this.connection;
    this.connection = null;
    this.setState('finished');
    void connection?.close().catch(() => undefined);
    this.ctx.finished();
    this.resolveDone();
  }

  /** SIGTERM / drain: close and release so a peer can claim at once, without stopping the session. */
  async handOver(): Promise<void> {
    if (this.state === 'finished') return;
    await this.closeConnection();
    // Still meant to run, held by nobody until a peer claims it (at once: the lease is cleared).
    this.holderId = null;
    this.status('starting', `handed over by ${this.ctx.gatewayId}`);
    await this.finish({ stopDesired: false });
  }

  // --- connection events ----------------------------------------------------------------------

  onQr(qr: { qr: string; expiresAt: number }): void {
    if (this.ending) return;
    if (this.purpose === 'logout') {
      // No credentials: nothing is linked, so there is nothing to unlink.
      void this.logout('logout of an unlinked session');
      return;
    }
    this.setState('pairing');
    this.currentQr = qr;
    this.status('scan_qr_code', null);
    this.emit('auth.qr', qr);
  }

  onOpen(identity: WaIdentity): void {
    if (this.ending) return;
    this.attempts = 0;
    this.setState('open');
    if (this.purpose === 'logout') {
      void this.logout();
      return;
    }
    this.identity = identity;
    this.currentQr = null;
    this.lastConnectedAt = Date.now();
    if (!this.paired) {
      this.paired = true;
      this.emit('session.paired', {
        phoneNumber: identity.phoneNumber,
        waJid: identity.waJid,
        waLid: identity.waLid,
      });
    }
    this.status('working', null);
  }

  onClose(reason: { code: number; message: string }): void {
    this.connection = null;
    if (this.ending || this.state === 'finished') return;
    const action = actionForClose(reason.code, {
      pairing: !this.paired && this.state === 'pairing',
    });
    const why = `${reason.code}: ${reason.message}`;
    this.ctx.logger.info(
      { sessionId: this.sessionId, code: reason.code, action: action.kind },
      'connection closed',
    );
    switch (action.kind) {
      case 'reconnect_now':
        this.setState('connecting');
        this.connect();
        return;
      case 'backoff':
        this.scheduleReconnect(why);
        return;
      case 'logged_out':
        this.ending = true;
        void this.ctx.auth
          .clear()
          .catch(() => undefined)
          .then(async () => {
            this.loggedOut(why);
            await this.finish({ stopDesired: true });
          });
        return;
      case 'failed':
      case 'replaced':
        this.ending = true;
        this.status('failed', why);
        void this.finish({ stopDesired: true });
        return;
      case 'pairing_expired':
        this.ending = true;
        this.status('stopped', QR_TIMEOUT_REASON);
        void this.finish({ stopDesired: true });
        return;
      case 'lease_lost':
        // A peer holds it now: as when the renewal finds the lease gone, emit and write nothing.
        this.fence();
        return;
    }
  }

  onMessage(message: WaInboundMessage): Promise<void> {
    return this.messages.onMessage(message);
  }

  onReceipt(receipt: WaReceipt): Promise<void> {
    return this.messages.onReceipt(receipt);
  }

  onChannelMessage(message: WaChannelMessage): Promise<void> {
    return this.messages.onChannelMessage(message);
  }

  /** Sends on the open connection; SendRefusedError says why not. */
  sendMessage(request: SendMessageRequest): Promise<WaSendResult> {
    if (this.state !== 'open')
      return Promise.reject(new SendRefusedError('not_connected', 'the session is not working'));
    return this.messages.send(request);
  }

  // --- internals ------------------------------------------------------------------------------

  private connect(): void {
    if (this.ending || this.state === 'finished') return;
    this.setState('connecting');
    const connection = this.ctx.factory.create({
      sessionId: this.sessionId,
      clientId: this.ctx.gatewayId,
      auth: this.ctx.auth,
      listener: this,
      linked: this.paired,
    });
    this.connection = connection;
    connection.connect().catch((error: unknown) => {
      if (this.connection !== connection) return;
      this.ctx.logger.warn({ err: error, sessionId: this.sessionId }, 'connect failed');
      this.onClose({
        code: 428,
        message: error instanceof Error ? error.message : 'connect failed',
      });
    });
  }

  private scheduleReconnect(why: string): void {
    this.attempts += 1;
    if (this.attempts > this.ctx.backoff.maxAttempts) {
      this.ending = true;
      this.status('failed', `gave up after ${this.ctx.backoff.maxAttempts} attempts (${why})`);
      void this.finish({ stopDesired: true });
      return;
    }
    this.setState('waiting');
    this.status('starting', why);
    this.retryTimer = setTimeout(
      () => this.connect(),
      backoffDelay(this.attempts, this.ctx.backoff),
    );
    this.retryTimer.unref();
  }

  private async closeConnection(): Promise<void> {
    this.ending = true;
    clearTimeout(this.retryTimer);
    const connection = this.connection;
    this.connection = null;
    await connection?.close().catch(() => undefined);
  }

  private loggedOut(reason: string): void {
    this.paired = false;
    this.identity = null;
    this.currentQr = null;
    this.status('stopped', reason);
    this.emit('session.logged_out', { reason });
  }

  private async finish(options: { stopDesired: boolean }): Promise<void> {
    if (this.state === 'finished') return;
    this.setState('finished');
    try {
      await this.ctx.release(options);
    } catch (error) {
      this.ctx.logger.warn(
        { err: error, sessionId: this.sessionId },
        'release failed; the lease will expire',
      );
    }
    this.ctx.finished();
    this.resolveDone();
  }

  private status(status: EventDataMap['session.status']['status'], reason: string | null): void {
    if (status === this.lastStatus && reason === null) return;
    this.lastStatus = status;
    this.statusReason = reason;
    if (status !== 'scan_qr_code') this.currentQr = null;
    const state = this.snapshot();
    this.ctx.emit('session.status', { status, gatewayId: state.gatewayId, reason }, state);
  }

  private emit<T extends EventType>(type: T, data: EventDataMap[T]): void {
    this.ctx.emit(type, data, this.snapshot());
  }

  private snapshot(): SessionState {
    const status = this.lastStatus ?? 'starting';
    const holding = status !== 'stopped' && status !== 'failed';
    return {
      status,
      gatewayId: holding ? this.holderId : null,
      reason: this.statusReason,
      phoneNumber: this.identity?.phoneNumber ?? null,
      waJid: this.identity?.waJid ?? null,
      waLid: this.identity?.waLid ?? null,
      qr: this.currentQr?.qr ?? null,
      qrExpiresAt: this.currentQr?.expiresAt ?? null,
      lastConnectedAt: this.lastConnectedAt,
    };
  }

  private setState(state: RunnerState): void {
    this.state = state;
    for (const wake of this.stateWaiters) wake();
  }

  private waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.stateWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.stateWaiters.delete(check);
        resolve();
      }, timeoutMs);
      this.stateWaiters.add(check);
    });
  }
}
