import {
  LeaseLostError,
  type WaConnection,
  type WaConnectionOptions,
  WaDisconnectCode,
  type WaIdentity,
  type WaMessageContent,
  type WaSendOptions,
  type WaSendResult,
  WaUnsupportedContentError,
} from '@wagw/whatsapp';
import type {
  BaileysEventMap,
  ConnectionState,
  UserFacingSocketConfig,
  WAMessage,
  WASocket,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { loadBaileysAuthState } from './auth/baileys-auth.state.js';
import { type BoundedCacheStore } from './auth/bounded-cache.store.js';
import { loadBaileys } from './baileys.module.js';

export interface BaileysConnectionSettings {
  /** WhatsApp Web socket; undefined → WhatsApp's own (`wss://web.whatsapp.com/ws/chat`). */
  waWebSocketUrl: string | undefined;
  /** A connect that neither shows a QR, opens nor closes in this long ends with 408. */
  connectTimeoutMs: number;
  keepAliveIntervalMs: number;
  logger: Logger;
  /** How the companion names itself on the phone's "Linked devices". */
  browser: [string, string, string];
  /** Baileys' retry bookkeeping, kept outside the socket (shared by the factory's connections). */
  retryCounters: (sessionId: string) => BoundedCacheStore;
  /** Lifetime of every QR ref; unset → WhatsApp's own (60 s for the first, 20 s for the next). */
  qrTimeoutMs?: number;
  /** Runs before the socket is made; a rejection fails `connect()` with its message. */
  prepare?: () => Promise<void>;
}

/** WhatsApp lets the first QR ref live 60 s and each later one 20 s (Baileys' own timers). */
const FIRST_QR_MS = 60_000;
const NEXT_QR_MS = 20_000;
/** WhatsApp's pairing codes are valid for about three minutes. */
const PAIRING_CODE_MS = 180_000;

const statusOf = (error: unknown): number | undefined =>
  (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;

/**
 * One WhatsApp connection driven by Baileys: a fresh socket with all its handlers per
 * `connect()`, and single-use like every `WaConnection` (after `onClose` it is dead; the
 * runner's reconnect policy decides what comes next).
 *
 * - Credentials are persisted only once the device is linked (`creds.account`, set by
 *   pair-success): an abandoned pairing leaves nothing behind, so the next attempt starts from
 *   fresh credentials. Saves are serialised; `onClose` waits for the last one (the 515 after
 *   pairing must find the new credentials stored).
 * - A save refused by the lease fence closes the socket (this process no longer holds it).
 * - A watchdog ends a connect that neither shows a QR, opens nor closes (Baileys never closes
 *   when the WebSocket upgrade is answered with an HTTP error).
 */
export class BaileysConnection implements WaConnection {
  private sock: WASocket | null = null;
  private open = false;
  private finished = false;
  private qrCount = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** Why we ended it ourselves; wins over what Baileys reports. */
  private localReason: { code: number; message: string } | null = null;
  private saving: Promise<void> = Promise.resolve();
  private pairingReady: { promise: Promise<void>; resolve: () => void };
  private readonly log: Logger;

  constructor(
    private readonly options: WaConnectionOptions,
    private readonly settings: BaileysConnectionSettings,
  ) {
    this.log = settings.logger.child({ sessionId: options.sessionId }, { level: 'warn' });
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.pairingReady = { promise, resolve };
  }

  async connect(): Promise<void> {
    await this.settings.prepare?.();
    const baileys = await loadBaileys();
    const auth = await loadBaileysAuthState(this.options.auth, this.log);
    const url = this.settings.waWebSocketUrl ? new URL(this.settings.waWebSocketUrl) : null;
    // The sandbox reports which gateway holds a device; the real network ignores nothing here.
    if (url) url.searchParams.set('clientId', this.options.clientId);
    const config: UserFacingSocketConfig = {
      auth: auth.state,
      logger: this.log,
      browser: this.settings.browser,
      markOnlineOnConnect: false,
      syncFullHistory: false,
      shouldSyncHistoryMessage: () => false,
      connectTimeoutMs: this.settings.connectTimeoutMs,
      keepAliveIntervalMs: this.settings.keepAliveIntervalMs,
      ...(this.settings.qrTimeoutMs ? { qrTimeout: this.settings.qrTimeoutMs } : {}),
      msgRetryCounterCache: this.settings.retryCounters(this.options.sessionId),
      // The message store arrives with the messages issue: nothing to resend from yet.
      getMessage: () => Promise.resolve(undefined),
      ...(url ? { waWebSocketUrl: url.toString() } : {}),
    };
    if (this.finished) return;
    const sock = baileys.makeWASocket(config);
    this.sock = sock;
    this.armWatchdog();
    sock.ev.on('creds.update', () => {
      if (auth.state.creds.account) this.save(() => auth.saveCreds());
    });
    sock.ev.on('connection.update', (update) => this.onUpdate(update, auth.state.creds));
    sock.ev.on('messages.upsert', (event) => this.onUpsert(event));
    sock.ev.on('messages.update', (updates) => this.onMessageUpdates(updates));
  }

  async requestPairingCode(phoneNumber: string): Promise<{ code: string; expiresAt: number }> {
    // The socket must be open for registration: WhatsApp asks for the code after the first QR.
    await this.pairingReady.promise;
    if (!this.sock || this.finished) throw new Error('the connection is closed');
    const code = await this.sock.requestPairingCode(phoneNumber);
    return {
      code: `${code.slice(0, 4)}-${code.slice(4)}`,
      expiresAt: Date.now() + PAIRING_CODE_MS,
    };
  }

  async sendText(to: string, text: string): Promise<WaSendResult> {
    const sock = this.requireOpen();
    const sent = await sock.sendMessage(to, { text });
    if (!sent?.key.id) throw new Error('the message was not sent');
    return {
      id: sent.key.id,
      chatJid: sent.key.remoteJid ?? to,
      timestamp: Number(sent.messageTimestamp ?? Math.floor(Date.now() / 1000)) * 1000,
    };
  }

  /** Text only so far; the other content types come with the Baileys driver (issue 9). */
  async sendMessage(
    to: string,
    content: WaMessageContent,
    _options: WaSendOptions,
  ): Promise<WaSendResult> {
    if (content.type !== 'text') throw new WaUnsupportedContentError(content.type);
    return this.sendText(to, content.text);
  }

  async sendPresence(to: string, presence: 'composing' | 'paused' | 'available'): Promise<void> {
    await this.requireOpen().sendPresenceUpdate(presence, to);
  }

  async markRead(messages: readonly { chatJid: string; id: string }[]): Promise<void> {
    await this.requireOpen().readMessages(
      messages.map((m) => ({ remoteJid: m.chatJid, id: m.id, fromMe: false })),
    );
  }

  /** Unlinks the device on the network (remove-companion-device), which then ends with 401. */
  async logout(): Promise<void> {
    const sock = this.requireOpen();
    this.localReason = { code: WaDisconnectCode.loggedOut, message: 'logged out' };
    await sock.logout();
  }

  async close(): Promise<void> {
    if (this.finished) return;
    this.localReason ??= { code: WaDisconnectCode.closedByClient, message: 'closed by client' };
    if (this.sock) await this.sock.end(undefined);
    else this.finish({ code: WaDisconnectCode.closedByClient, message: 'closed by client' });
  }

  // --- socket events ---------------------------------------------------------------------------

  private onUpdate(
    update: Partial<ConnectionState>,
    creds: { me?: WaMe; account?: unknown },
  ): void {
    if (update.qr) {
      this.disarmWatchdog();
      const ttl = this.settings.qrTimeoutMs ?? (this.qrCount === 0 ? FIRST_QR_MS : NEXT_QR_MS);
      this.qrCount += 1;
      this.pairingReady.resolve();
      this.emit(() => this.options.listener.onQr({ qr: update.qr!, expiresAt: Date.now() + ttl }));
    }
    if (update.connection === 'open') {
      this.disarmWatchdog();
      this.open = true;
      const identity = identityOf(creds.me);
      if (!identity) {
        this.localReason = {
          code: WaDisconnectCode.badSession,
          message: 'open without an identity',
        };
        void this.sock?.end(undefined);
        return;
      }
      this.emit(() => this.options.listener.onOpen(identity));
    }
    if (update.connection === 'close') {
      this.disarmWatchdog();
      this.open = false;
      const error = update.lastDisconnect?.error;
      const reason = this.localReason ?? {
        code: statusOf(error) ?? WaDisconnectCode.connectionClosed,
        message: describeClose(error, this.settings.waWebSocketUrl),
      };
      // The 515 after pairing must find the new credentials stored before anyone reconnects.
      void this.saving.finally(() => this.finish(reason));
    }
  }

  private onUpsert({ messages, type }: BaileysEventMap['messages.upsert']): void {
    if (type !== 'notify') return;
    for (const message of messages) {
      const inbound = toInbound(message);
      if (inbound) this.emit(() => this.handled(this.options.listener.onMessage(inbound)));
    }
  }

  private onMessageUpdates(updates: BaileysEventMap['messages.update']): void {
    for (const { key, update } of updates) {
      const status = Number(update.status ?? 0);
      // WAMessageStatus: 3 = delivered to the device, 4 = read.
      if (!key.id || !key.remoteJid || !key.fromMe || status < 3) continue;
      this.emit(() =>
        this.handled(
          this.options.listener.onReceipt({
            messageId: key.id!,
            chatJid: key.remoteJid!,
            status: status >= 4 ? 'read' : 'delivered',
            timestamp: Date.now(),
          }),
        ),
      );
    }
  }

  // --- internals -------------------------------------------------------------------------------

  private save(write: () => Promise<void>): void {
    this.saving = this.saving.then(write).catch((error: unknown) => {
      if (!(error instanceof LeaseLostError)) {
        this.log.error({ err: error }, 'could not store credentials');
      }
      this.localReason =
        error instanceof LeaseLostError
          ? { code: WaDisconnectCode.leaseLost, message: 'lease lost: credentials not stored' }
          : { code: WaDisconnectCode.closedByClient, message: 'could not store credentials' };
      void this.sock?.end(undefined);
    });
  }

  private armWatchdog(): void {
    this.watchdog = setTimeout(() => {
      if (this.open || this.qrCount > 0 || this.finished) return;
      this.localReason = {
        code: WaDisconnectCode.connectionLost,
        message: `no answer from ${this.settings.waWebSocketUrl ?? 'WhatsApp'} within ${this.settings.connectTimeoutMs} ms`,
      };
      void this.sock?.end(undefined);
      // Baileys may never report the close of a socket stuck in its upgrade: finish anyway.
      setTimeout(() => this.finish(this.localReason!), 1_000).unref();
    }, this.settings.connectTimeoutMs + 5_000);
    this.watchdog.unref();
  }

  private disarmWatchdog(): void {
    clearTimeout(this.watchdog);
  }

  private requireOpen(): WASocket {
    if (!this.sock || !this.open || this.finished) throw new Error('the connection is not open');
    return this.sock;
  }

  private finish(reason: { code: number; message: string }): void {
    if (this.finished) return;
    this.emit(() => this.options.listener.onClose(reason));
    this.finished = true;
    this.disarmWatchdog();
    if (this.sock) releaseSocket(this.sock);
    this.sock = null;
    this.pairingReady.resolve();
  }

  /** A listener's rejection is logged, never left unhandled (that would end the process). */
  private handled(result: Promise<void>): void {
    result.catch((error: unknown) =>
      this.log.warn({ err: error }, 'an inbound event was not handled; the network redelivers it'),
    );
  }

  /** Nothing reaches the listener after onClose; listener code must not break Baileys' loop. */
  private emit(call: () => void): void {
    if (this.finished) return;
    try {
      call();
    } catch (error) {
      this.log.error({ err: error }, 'connection listener failed');
    }
  }
}

/**
 * Lets a closed Baileys 7.0.0-rc14 socket be collected at once (test/medium/
 * baileys-connection-cycles.test.ts measures it):
 * - its `end()` removes the WebSocket's `close` listeners before closing, so queries still in
 *   flight (the init queries right after open) wait out their 60 s timeout, each holding the
 *   whole socket (~0.5 MB per close). They also listen for `error`: fail them now.
 * - its LID-mapping cache arms a 3-day timer per entry (lru-cache `ttlAutopurge`), and the
 *   socket stores its own mapping on a tick after open: stored after `end()` cleared the cache,
 *   those timers would keep it for 3 days. A closed socket's cache becomes a plain Map.
 */
function releaseSocket(sock: WASocket): void {
  try {
    sock.ws.emit('error', new Error('connection closed'));
  } catch {
    /* no error listener left: nothing in flight */
  }
  const lidMapping = sock.signalRepository?.lidMapping as unknown as
    { close?: () => void; mappingCache?: unknown } | undefined;
  if (lidMapping?.mappingCache) {
    lidMapping.close?.();
    lidMapping.mappingCache = new Map();
  }
}

interface WaMe {
  id: string;
  lid?: string;
}

/** `6281234567890:7@s.whatsapp.net` + `100000000000001:7@lid` → the account's number and jids. */
function identityOf(me: WaMe | undefined): WaIdentity | null {
  const user = me?.id.split('@')[0]?.split(':')[0];
  if (!user || !/^\d+$/.test(user)) return null;
  const lidUser = me?.lid?.split('@')[0]?.split(':')[0];
  return {
    phoneNumber: user,
    waJid: `${user}@s.whatsapp.net`,
    waLid: lidUser ? `${lidUser}@lid` : null,
  };
}

function toInbound(message: WAMessage) {
  const { key } = message;
  if (!key.id || !key.remoteJid) return null;
  const content = message.message;
  const text = content?.conversation ?? content?.extendedTextMessage?.text ?? null;
  return {
    id: key.id,
    chatJid: key.remoteJid,
    // Baileys 7 sets `participant` to '' in a 1:1 chat.
    fromJid: key.participant || key.remoteJid,
    fromMe: key.fromMe === true,
    timestamp: Number(message.messageTimestamp ?? 0) * 1000,
    text,
  };
}

/** A close reason a user can act on: the network error itself when there is one. */
function describeClose(error: Error | undefined, url: string | undefined): string {
  const cause = (error as { data?: unknown; cause?: unknown } | undefined)?.cause;
  const detail = error?.message ?? 'connection closed';
  const unreachable = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/.test(
    `${detail} ${String(cause)}`,
  );
  return unreachable
    ? `cannot reach ${url ?? 'WhatsApp (wss://web.whatsapp.com)'}: ${detail}; check the gateway's network access (and WA_NETWORK / WA_SIM_URL)`
    : detail;
}
