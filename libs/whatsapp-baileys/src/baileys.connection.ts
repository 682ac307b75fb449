import { withSharedTransactionStorage } from '@wagw/shared-transaction-storage';
import {
  LeaseLostError,
  type WaConnection,
  type WaConnectionOptions,
  WaDisconnectCode,
  type WaIdentity,
  type WaInboundMessage,
  type WaMessageContent,
  type WaSendOptions,
  type WaSendResult,
} from '@wagw/whatsapp';
import type {
  BaileysEventMap,
  ConnectionState,
  UserFacingSocketConfig,
  WAMessage,
  WASocket,
  BinaryNode,
  proto,
} from '@whiskeysockets/baileys';
import type { Agent } from 'node:https';
import type { Logger } from 'pino';
import { loadBaileysAuthState } from './auth/baileys-auth.state.js';
import { type BoundedCacheStore } from './auth/bounded-cache.store.js';
import {
  mediaSha256,
  rawOf,
  receiptsOf,
  toBaileysContent,
  toChannelMessage,
  toInbound,
} from './baileys-message.mapper.js';
import { loadBaileys } from './baileys.module.js';
import { InboundAckGate } from './inbound-ack.gate.js';

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
  /**
   * A message this session sent or received, from the message store, for Baileys' retry path
   * (a peer that could not decrypt asks for it again) and for quoting a reply. Unset → none.
   */
  getMessage?: (
    sessionId: string,
    key: { remoteJid?: string | null; id?: string | null },
  ) => Promise<proto.IMessage | undefined>;
  /** Agent for media uploads and downloads (the sandbox's media host certificate). */
  mediaAgent?: () => Agent | undefined;
}

/** Arrival stamps kept for messages not yet upserted. */
const MAX_ARRIVALS = 10_000;
/** How long a close waits for inbound messages still being handed to the listener. */
const DRAIN_MS = 5_000;

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
  /** Inbound messages, receipts and posts being handed to the listener, in arrival order. */
  private inbound: Promise<void> = Promise.resolve();
  private pendingInbound = 0;
  private lastTimestamp = 0;
  private receiptCount = 0;
  private readonly arrivals = new Map<string, number>();
  /** Holds acknowledgements until their message is stored (null: the socket could not be wrapped). */
  private gate: InboundAckGate | null = null;
  private unwrap: (m: proto.IMessage | null | undefined) => proto.IMessage | undefined = (m) =>
    m ?? undefined;
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
    const mediaAgent = this.settings.mediaAgent?.();
    const auth = await loadBaileysAuthState(this.options.auth, this.log, {
      // The Signal state a decryption advanced is stored once the message is handed over:
      // a crash in between leaves the stored session able to decrypt the redelivered message.
      deferDecryptionState: () => {
        const gate = this.gate;
        return gate
          ? (write) => gate.afterHandOver(() => write().catch((error) => this.writeFailed(error)))
          : null;
      },
    });
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
      // A peer's retry receipt asks for a message again: Baileys' recent-message cache first,
      // then the message store (which outlives this process and its lease).
      getMessage: (key) => this.storedMessage(key),
      // Our own sends are reported by sendMessage's result, not echoed as upserts: an echo would
      // store them a second time as "received".
      emitOwnEvents: false,
      ...(mediaAgent ? { fetchAgent: mediaAgent } : {}),
      ...(url ? { waWebSocketUrl: url.toString() } : {}),
    };
    if (this.finished) return;
    // Its key-store transactions run in one storage shared by every socket (see the module).
    const sock = withSharedTransactionStorage(() => baileys.makeWASocket(config));
    this.sock = sock;
    this.unwrap = baileys.normalizeMessageContent;
    this.armWatchdog();
    sock.ev.on('creds.update', () => {
      if (auth.state.creds.account) this.save(() => auth.saveCreds());
    });
    sock.ev.on('connection.update', (update) => this.onUpdate(update, auth.state.creds));
    sock.ev.on('messages.upsert', (event) => this.onUpsert(event));
    // Stamped as they come off the socket, in the network's order (Baileys may upsert
    // concurrently handled messages in another order): see `refine`.
    sock.ws.on('CB:message', (node: BinaryNode) => this.noteArrival(node));
    sock.ws.on('CB:receipt', (node: BinaryNode) => this.onReceipt(node, auth.state.creds.me));
    this.gate = gateAcks(sock, this.log);
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
    return this.sendMessage(to, { type: 'text', text }, { replyTo: null, mentions: [] });
  }

  /**
   * Every content type of the contract: media from bytes (Baileys encrypts them, uploads them to
   * the media host `media_conn` names, and sends the reference), a reply quotes the stored
   * message when there is one (else a stub with its id: the peer still links the reply).
   */
  async sendMessage(
    to: string,
    content: WaMessageContent,
    options: WaSendOptions,
  ): Promise<WaSendResult> {
    const sock = this.requireOpen();
    const quoted = options.replyTo ? await this.quotedMessage(to, options.replyTo) : undefined;
    const sent = await sock.sendMessage(to, toBaileysContent(content, to, options), {
      ...(quoted ? { quoted } : {}),
    });
    if (!sent?.key.id) throw new Error('the message was not sent');
    // Written behind an inbound message still being stored, its frame has not left yet.
    await this.gate?.flushed();
    return {
      id: sent.key.id,
      chatJid: sent.key.remoteJid ?? to,
      timestamp: this.refine(Number(sent.messageTimestamp ?? Math.floor(Date.now() / 1000)) * 1000),
      raw: rawOf(sent),
      mediaSha256: mediaSha256(content),
    };
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
      // Acknowledgements still held go nowhere now: the network keeps those messages.
      this.gate?.discard();
      // The 515 after pairing must find the new credentials stored before anyone reconnects;
      // inbound messages already acknowledged to the network must reach the listener first.
      void Promise.all([this.saving, this.drained(), this.gate?.written()]).finally(() =>
        this.finish(reason),
      );
    }
  }

  /**
   * `notify` is a live message; `append` is one the network had queued while we were offline
   * (Baileys marks a stanza with `offline` as append) or a channel post that came as a
   * notification: both are the chat's messages and must be stored, or a message redelivered
   * after a crash would be dropped here. Our own sends never come back (emitOwnEvents off), and
   * history sync is off, so nothing else arrives as `append`.
   */
  private onUpsert({ messages, type }: BaileysEventMap['messages.upsert']): void {
    if (type !== 'notify' && type !== 'append') return;
    for (const message of messages) {
      const id = message.key.id ?? '';
      const jid = message.key.remoteJid ?? '';
      if (jid.endsWith('@newsletter')) {
        const post = toChannelMessage(message, this.unwrap);
        if (post) post.timestamp = this.stampOf(post.id, post.timestamp);
        if (post)
          this.handOver('channel post', () => this.options.listener.onChannelMessage(post), id);
        else this.gate?.settle(id);
        continue;
      }
      const inbound: WaInboundMessage | null =
        jid === 'status@broadcast' ? null : toInbound(message, this.unwrap);
      if (inbound) inbound.timestamp = this.stampOf(inbound.id, inbound.timestamp);
      if (inbound) this.handOver('message', () => this.options.listener.onMessage(inbound), id);
      // Nothing to store (protocol traffic, status): its acknowledgement may go at once.
      else this.gate?.settle(id);
    }
  }

  /**
   * Delivery and read receipts of our messages, read off the stanza and held like a message:
   * Baileys acknowledges a receipt to the network before its `messages.update` leaves its event
   * buffer, so that event comes too late to hold the acknowledgement until the receipt is stored.
   */
  private onReceipt(node: BinaryNode, me: WaMe | undefined): void {
    const receipts = receiptsOf(node, me);
    if (receipts.length === 0) return;
    const key = `receipt#${++this.receiptCount}`;
    this.gate?.arrived(key);
    this.handOver(
      'receipt',
      async () => {
        for (const receipt of receipts) await this.options.listener.onReceipt(receipt);
      },
      key,
    );
  }

  /**
   * Hands one inbound item to the listener and waits for its promise (the event is durable),
   * one at a time in arrival order. Baileys does not wait for us and acknowledges a message to
   * the network before it emits `messages.upsert` (messages-recv.js `handleMessage`:
   * `sendReceipt`, then `upsertMessage`); the `InboundAckGate` holds that acknowledgement (and
   * every frame after it) until the hand-over resolves. A rejected hand-over ends the connection
   * with the acknowledgement unsent: the network delivers the message again at the next login.
   */
  private handOver(kind: string, call: () => Promise<void>, id: string): void {
    if (this.finished) return;
    this.pendingInbound += 1;
    this.inbound = this.inbound
      .then(() => {
        if (this.finished) throw new Error('the connection closed before it was handed over');
        return call();
      })
      .then(
        () => this.gate?.settle(id),
        (error: unknown) => {
          this.log.error({ err: error }, `inbound ${kind} not stored: not acknowledged`);
          this.unacknowledged();
        },
      )
      .finally(() => {
        this.pendingInbound -= 1;
      });
  }

  /** A message could not be stored: drop its held acknowledgement and end the connection. */
  private unacknowledged(): void {
    if (this.finished || !this.gate) return;
    this.gate.discard();
    this.localReason ??= {
      code: WaDisconnectCode.connectionClosed,
      message: 'an inbound message could not be stored; the network will deliver it again',
    };
    void this.sock?.end(undefined);
  }

  /**
   * WhatsApp stamps messages to the second; stored messages are listed by timestamp, so several
   * in one second would tie and lose the order they came in. Within its second a timestamp is
   * refined to the millisecond by arrival: the clock when it arrived (kept inside that second),
   * and strictly after the previous message of this connection in the same second.
   */
  private refine(ms: number): number {
    const second = Math.floor(ms / 1000) * 1000;
    let refined = Math.min(Math.max(Date.now(), second), second + 999);
    if (this.lastTimestamp >= second && this.lastTimestamp < second + 999)
      refined = Math.max(refined, this.lastTimestamp + 1);
    this.lastTimestamp = Math.max(this.lastTimestamp, refined);
    return refined;
  }

  private noteArrival(node: BinaryNode): void {
    const { id, t } = node.attrs;
    if (id) this.gate?.arrived(id);
    if (!id || !t || !/^\d+$/.test(t)) return;
    this.arrivals.set(id, this.refine(Number(t) * 1000));
    // Stanzas that never become a message (undecryptable, ignored) must not pile up.
    if (this.arrivals.size > MAX_ARRIVALS) this.arrivals.delete(this.arrivals.keys().next().value!);
  }

  /** The arrival stamp of a message, or (not seen on the socket) one refined now. */
  private stampOf(id: string, timestamp: number): number {
    const stamp = this.arrivals.get(id);
    this.arrivals.delete(id);
    return stamp !== undefined && Math.floor(stamp / 1000) === Math.floor(timestamp / 1000)
      ? stamp
      : this.refine(timestamp);
  }

  /** Resolves when every hand-over in flight is done, or after `DRAIN_MS`. */
  private drained(): Promise<void> {
    if (this.pendingInbound === 0) return Promise.resolve();
    return Promise.race([this.inbound, new Promise<void>((r) => setTimeout(r, DRAIN_MS).unref())]);
  }

  private async storedMessage(key: {
    remoteJid?: string | null;
    id?: string | null;
  }): Promise<proto.IMessage | undefined> {
    if (!this.settings.getMessage || !key.id) return undefined;
    try {
      return await this.settings.getMessage(this.options.sessionId, key);
    } catch (error) {
      this.log.warn({ err: error }, 'could not read a stored message');
      return undefined;
    }
  }

  /** The message a reply quotes: the stored one, or a stub with its id. */
  private async quotedMessage(chatJid: string, id: string): Promise<WAMessage> {
    const stored = await this.storedMessage({ remoteJid: chatJid, id });
    return {
      key: { remoteJid: chatJid, id, fromMe: false },
      message: stored ?? { conversation: '' },
    };
  }

  // --- internals -------------------------------------------------------------------------------

  private save(write: () => Promise<void>): void {
    this.saving = this.saving.then(write).catch((error: unknown) => this.writeFailed(error));
  }

  /** Auth state that could not be stored ends the connection (fenced: we lost the lease). */
  private writeFailed(error: unknown): void {
    if (!(error instanceof LeaseLostError)) {
      this.log.error({ err: error }, 'could not store credentials');
    }
    this.localReason =
      error instanceof LeaseLostError
        ? { code: WaDisconnectCode.leaseLost, message: 'lease lost: credentials not stored' }
        : { code: WaDisconnectCode.closedByClient, message: 'could not store credentials' };
    void this.sock?.end(undefined);
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

/** How long an inbound message may hold the acknowledgements before it is given up on. */
const ACK_HOLD_MS = 10_000;

/**
 * Routes the socket's frames through an `InboundAckGate`. Baileys writes every frame through its
 * WebSocket client's `socket.send` (the `ws` WebSocket, made when the socket is), which is where
 * the gate sits. Should a Baileys release move it, acknowledgements go out as Baileys sends them
 * (logged once): messages are then only as safe as Baileys' own order makes them.
 */
function gateAcks(sock: WASocket, log: Logger): InboundAckGate | null {
  const raw = (sock.ws as unknown as { socket?: { send?: unknown } | null }).socket;
  if (!raw || typeof raw.send !== 'function') {
    log.warn('cannot hold acknowledgements until messages are stored: no WebSocket to wrap');
    return null;
  }
  const send = (raw.send as (data: unknown, cb?: (err?: Error) => void) => void).bind(raw);
  const gate = new InboundAckGate(send, ACK_HOLD_MS, (err) =>
    log.warn({ err }, 'a held frame could not be written'),
  );
  raw.send = (data: unknown, cb?: (err?: Error) => void) => gate.frame(data, cb);
  return gate;
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
