/**
 * The WhatsApp connection port: everything the gateway needs from "a WhatsApp socket", whatever
 * drives it (Baileys against the real network, or the simulated network in `libs/wa-sim`).
 *
 * A connection is single-use: `connect()` once, and after `onClose` fires it is dead. Reconnect
 * policy (515 at once, 428 backoff, 401 wipe, 440 release...) belongs to the caller, never to the
 * adapter, because only the caller knows whether it still holds the session's lease.
 */

import type { MessageContent, MessageMedia, MessageType } from '@wagw/contracts';

/** What `sendMessage` sends: exactly one content, media as bytes (the contract's type). */
export type WaMessageContent = MessageContent;
export type WaMessageType = MessageType;
export type WaMessageMedia = MessageMedia;
/** The contract's size limits (raw payload, MIME type, file name), for adapters to respect. */
export { MESSAGE_LIMITS as WA_MESSAGE_LIMITS } from '@wagw/contracts';

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
  /** The text, or a media message's caption. */
  text: string | null;
  /** What kind of content; `text` when the adapter does not say. */
  type?: MessageType;
  /** A media message's metadata (never its bytes). */
  media?: MessageMedia | null;
  /** The id of the message this one quotes. */
  replyTo?: string | null;
  /** The adapter's raw message, kept for storage; JSON-serialisable. */
  raw?: unknown;
}

export interface WaChannelMessage {
  id: string;
  channelJid: string;
  timestamp: number;
  text: string | null;
  type?: MessageType;
  media?: MessageMedia | null;
  raw?: unknown;
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
  /**
   * An inbound message. No loss: the adapter acknowledges it to the network (the receipt that
   * stops redelivery) only after the returned promise resolves, i.e. once its event is durably
   * published; a rejection means "do not acknowledge" (the network redelivers it later).
   */
  onMessage(message: WaInboundMessage): Promise<void>;
  /** A receipt for a message this device sent; acknowledged like onMessage. */
  onReceipt(receipt: WaReceipt): Promise<void>;
  /** A channel (newsletter) post; acknowledged like onMessage. */
  onChannelMessage(message: WaChannelMessage): Promise<void>;
}

/** `replyTo` (a message id in the same chat) and `mentions` (JIDs) of an outbound message. */
export interface WaSendOptions {
  replyTo: string | null;
  mentions: readonly string[];
}

/** Thrown by `sendMessage` for a content type this driver cannot send. */
export class WaUnsupportedContentError extends Error {
  constructor(type: string) {
    super(`this WhatsApp driver cannot send ${type} messages`);
    this.name = 'WaUnsupportedContentError';
  }
}

export interface WaSendResult {
  id: string;
  chatJid: string;
  timestamp: number;
  /** The message as sent, JSON, for storage (and for answering the peer's retry from it). */
  raw?: unknown;
  /** The media's SHA-256 (hex) when the content was media. */
  mediaSha256?: string | null;
}

export interface WaConnection {
  /** Opens the socket. With no creds in the store, pairing starts (QR events). */
  connect(): Promise<void>;
  /** Asks for a phone pairing code instead of QR; only while unpaired and connected. */
  requestPairingCode(phoneNumber: string): Promise<{ code: string; expiresAt: number }>;
  sendText(to: string, text: string): Promise<WaSendResult>;
  /**
   * Sends one message of any content type to `to` (a JID). Media arrive as bytes (base64) with
   * their MIME type: the adapter encrypts and uploads them as WhatsApp does. Throws
   * WaUnsupportedContentError for a content type the driver cannot send.
   */
  sendMessage(to: string, content: WaMessageContent, options: WaSendOptions): Promise<WaSendResult>;
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
  /**
   * The device was linked before this connection: it logs in. Otherwise it pairs, or makes the
   * first login after a scan, which costs far more (Baileys generates and uploads 812 pre-keys).
   */
  linked?: boolean;
}

export interface WaConnectionFactory {
  readonly driver: string;
  create(options: WaConnectionOptions): WaConnection;
  /**
   * Loads what the first connection would (the driver's modules, the network's trust) ahead of
   * it: the runtime calls it once the worker is ready, so a standby does not pay it inside its
   * first takeover. Optional: a driver with nothing to load leaves it out.
   */
  warmUp?(): Promise<void>;
}
