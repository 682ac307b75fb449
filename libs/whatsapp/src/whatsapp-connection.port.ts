/**
 * The WhatsApp connection port: everything the gateway needs from "a WhatsApp socket", whatever
 * drives it (Baileys against the real network, or the simulated network in `libs/wa-sim`).
 *
 * A connection is single-use: `connect()` once, and after `onClose` fires it is dead. Reconnect
 * policy (515 at once, 428 backoff, 401 wipe, 440 release...) belongs to the caller, never to the
 * adapter, because only the caller knows whether it still holds the session's lease.
 */

/** Disconnect codes, as WhatsApp (and Baileys' DisconnectReason) use them. */
export const WaDisconnectCode = {
  /** Pairing finished; the client must reconnect at once with its new credentials. */
  restartRequired: 515,
  connectionClosed: 428,
  connectionLost: 408,
  unavailableService: 503,
  badSession: 500,
  /** The device was unlinked (logout from the phone or from us): credentials are dead. */
  loggedOut: 401,
  /** Banned / forbidden. */
  forbidden: 403,
  multideviceMismatch: 411,
  /** Another connection for the same device took over. Never reconnect blindly. */
  connectionReplaced: 440,
  /** We closed it ourselves (stop, drain). */
  closedByClient: 499,
  /**
   * Ours, never WhatsApp's: a write of this connection's auth state was refused by the lease
   * fence, so this process no longer holds the session. Never reconnect; a peer owns it now.
   */
  leaseLost: 498,
} as const;
export type WaDisconnectCode = (typeof WaDisconnectCode)[keyof typeof WaDisconnectCode];

/** A fenced write was refused: this process no longer holds the session's lease. */
export class LeaseLostError extends Error {
  constructor(sessionId: string) {
    super(`lease lost for session ${sessionId}`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Persistent auth state of one session. Values are opaque strings serialised by the adapter
 * (Baileys uses BufferJSON). Implementations encrypt at rest and fence every write by the
 * caller's lease (owner + epoch): a write from a stale owner throws `LeaseLostError`.
 */
export interface WaAuthStore {
  readCreds(): Promise<string | null>;
  writeCreds(creds: string): Promise<void>;
  /** Returns only the ids that exist. */
  readKeys(type: string, ids: readonly string[]): Promise<Map<string, string>>;
  /** Applies the whole batch atomically; `value: null` deletes the key. */
  writeKeys(entries: readonly { type: string; id: string; value: string | null }[]): Promise<void>;
  /** Wipes creds and keys (logout, 401). */
  clear(): Promise<void>;
}

export interface WaIdentity {
  /** Digits with country code, no `+`. */
  phoneNumber: string;
  waJid: string;
  waLid: string | null;
}

export interface WaInboundMessage {
  id: string;
  chatJid: string;
  fromJid: string;
  fromMe: boolean;
  timestamp: number;
  text: string | null;
  /** The adapter's raw message, kept for storage; JSON-serialisable. */
  raw?: unknown;
}

export interface WaChannelMessage {
  id: string;
  channelJid: string;
  timestamp: number;
  text: string | null;
}

export interface WaReceipt {
  messageId: string;
  chatJid: string;
  status: 'delivered' | 'read';
  timestamp: number;
}

export interface WaConnectionListener {
  /** A new QR payload to show; supersedes the previous one. */
  onQr(qr: { qr: string; expiresAt: number }): void;
  /** The device is linked and the connection is usable. */
  onOpen(identity: WaIdentity): void;
  /** The connection is gone; `code` is a WaDisconnectCode (or another WhatsApp code). */
  onClose(reason: { code: number; message: string }): void;
  onMessage(message: WaInboundMessage): void;
  onReceipt(receipt: WaReceipt): void;
  onChannelMessage(message: WaChannelMessage): void;
}

export interface WaSendResult {
  id: string;
  chatJid: string;
  timestamp: number;
}

export interface WaConnection {
  /** Opens the socket. With no creds in the store, pairing starts (QR events). */
  connect(): Promise<void>;
  /** Asks for a phone pairing code instead of QR; only while unpaired and connected. */
  requestPairingCode(phoneNumber: string): Promise<{ code: string; expiresAt: number }>;
  sendText(to: string, text: string): Promise<WaSendResult>;
  sendPresence(to: string, presence: 'composing' | 'paused' | 'available'): Promise<void>;
  markRead(messages: readonly { chatJid: string; id: string }[]): Promise<void>;
  /** Unlinks the device on the network, then closes (onClose with 401). */
  logout(): Promise<void>;
  /** Closes locally, keeps the link (onClose with 499). Idempotent. */
  close(): Promise<void>;
}

export interface WaConnectionOptions {
  sessionId: string;
  /** Who holds the connection (GATEWAY_ID); the network sees it as the client id. */
  clientId: string;
  auth: WaAuthStore;
  listener: WaConnectionListener;
}

export interface WaConnectionFactory {
  readonly driver: string;
  create(options: WaConnectionOptions): WaConnection;
}
