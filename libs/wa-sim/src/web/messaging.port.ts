import type { BinaryNode, KeyPair } from '@whiskeysockets/baileys';

/**
 * The seam between the WhatsApp Web transport (handshake, pairing, login, disconnects; this
 * folder) and the messaging half (`./messaging/`: Signal 1:1 messages, receipts, offline queue,
 * channel posts). The transport owns the sockets and the device registry; the messaging half
 * owns every message, and plugs in by implementing `WebMessagingHandler`.
 *
 * Life of a linked device, as the handler sees it:
 * 1. `onLinked(device)` when a phone links a companion (QR or code). A relink of the same number
 *    first gives `onUnlinked` for the old device.
 * 2. Each login: the transport sends `<success/>`, then awaits `onLogin(device)`, in which the
 *    handler pushes (`context.push`) whatever waited while the device was offline and returns how
 *    many stanzas it pushed; then the transport sends `<ib><offline count=N/></ib>`.
 * 3. While logged in, every `message`, `receipt` and `ack` node the client sends goes to
 *    `onMessage` / `onReceipt` / `onAck` (the transport acks nothing itself: stanza acks are the
 *    handler's job). Every `iq` first goes to `onIq`; when that returns a node, it is the answer
 *    (send it whole: `{ tag: 'iq', attrs: { id, type: 'result', from: ... }, content }`), when it
 *    returns undefined the transport answers with its defaults (see below).
 * 4. `onDisconnected(device, code)` when the live connection ends (any reason, code as the client
 *    sees it: 428, 440, 401, ...); `onUnlinked(device)` when the device is removed (logout from
 *    the phone, `:logout`, a relink, the client's own logout).
 *
 * The transport's default iq answers (used when `onIq` returns undefined):
 * - `usync`: each listed user gets `devices` (device 0, plus the number's linked companion with
 *   `key-index`) and `lid`; a non-companion number is a simulated phone with device 0 only;
 * - `encrypt` get `<key>` (prekey bundles): each user's bundle from the keys its companion
 *   uploaded (one one-time prekey taken per fetch), `<error code=404>` in the user node when the
 *   sim has none. Simulated phones have no bundle until the messaging half answers for them.
 * - `encrypt` `count` / upload / `digest`, `passive`, `w:p` ping, `abt` props, `blocklist`,
 *   `privacy`: as WhatsApp; anything else: an empty `result`.
 *
 * Handlers are called on the event loop, one stanza at a time per connection (a connection
 * awaits the handler before it reads its next stanza). A throwing handler is logged; the
 * connection stays up.
 */
export interface WebMessagingHandler {
  /** Called once when the network starts, before any connection. */
  attach(context: WebSimContext): void;
  onLinked(device: WebLinkedDevice): void;
  onUnlinked(device: WebLinkedDevice): void;
  /** Returns how many stanzas it pushed for the `ib/offline` count. */
  onLogin(device: WebLinkedDevice): Promise<number> | number;
  onDisconnected(device: WebLinkedDevice, code: number): void;
  onMessage(device: WebLinkedDevice, node: BinaryNode): Promise<void> | void;
  onReceipt(device: WebLinkedDevice, node: BinaryNode): Promise<void> | void;
  onAck(device: WebLinkedDevice, node: BinaryNode): Promise<void> | void;
  /** Any other stanza of a logged-in device: `presence`, `chatstate`, `ib`, `notification`... */
  onOtherStanza(device: WebLinkedDevice, node: BinaryNode): Promise<void> | void;
  onIq(
    device: WebLinkedDevice,
    node: BinaryNode,
  ): Promise<BinaryNode | undefined> | BinaryNode | undefined;
  /** Stops timers; called when the network shuts down. */
  close(): void;
}

/** A companion device linked to a number (one per number, as WhatsApp). */
export interface WebLinkedDevice {
  phoneNumber: string;
  /** The companion's device id (1..), as in `<phone>:<deviceId>@s.whatsapp.net`. */
  deviceId: number;
  /** `<phone>:<deviceId>@s.whatsapp.net` */
  jid: string;
  /** `<lid user>:<deviceId>@lid` */
  lid: string;
  /** The account's LID without device: `<lid user>@lid`. */
  accountLid: string;
  /** What the companion registered and uploaded: its Signal identity, signed prekey, prekeys. */
  keys: WebCompanionKeys;
  linkedAt: number;
}

/** One companion's Signal keys as the server holds them (the public halves only). */
export interface WebCompanionKeys {
  registrationId: number;
  /** 32 bytes, Curve25519, no type prefix. */
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  /** One-time prekeys uploaded and not yet handed out, by id. */
  preKeys: Map<number, Buffer>;
}

/** The simulated phone behind a number: the account's primary device (device 0). */
export interface WebSimPhone {
  phoneNumber: string;
  /** The account identity: signs the ADV device identity, and is device 0's Signal identity. */
  identity: KeyPair;
  registrationId: number;
  /** `<lid user>@lid`, stable per number. */
  lid: string;
}

/** What the transport offers the messaging half. */
export interface WebSimContext {
  /**
   * Sends a node to the number's live, logged-in companion connection. False when it has none
   * (offline, or still logging in): queue it and push it at the next `onLogin`.
   */
  push(phoneNumber: string, node: BinaryNode): boolean;
  /** The linked companion of a number, online or not. */
  device(phoneNumber: string): WebLinkedDevice | undefined;
  /** The linked companion whose account LID (`<user>@lid`, device part ignored) this is. */
  deviceByLid(lid: string): WebLinkedDevice | undefined;
  /** The number behind a LID (`<user>[:<device>]@lid`), linked or simulated phone. */
  phoneByLid(lid: string): string | undefined;
  isOnline(phoneNumber: string): boolean;
  /** The simulated phone of any number, created with fresh keys on first use. */
  phone(phoneNumber: string): WebSimPhone;
  /** Takes one one-time prekey of the companion (as a bundle fetch does); undefined when none. */
  takePreKey(phoneNumber: string): { keyId: number; publicKey: Buffer } | undefined;
  now(): number;
  logger: {
    info(obj: object, msg?: string): void;
    warn(obj: object, msg?: string): void;
    error(obj: object, msg?: string): void;
  };
}

/** The default until the messaging half plugs in: messages are ignored, iqs get the defaults. */
export class NoopMessagingHandler implements WebMessagingHandler {
  attach(): void {}
  onLinked(): void {}
  onUnlinked(): void {}
  onLogin(): number {
    return 0;
  }
  onDisconnected(): void {}
  onMessage(): void {}
  onReceipt(): void {}
  onAck(): void {}
  onOtherStanza(): void {}
  onIq(): undefined {
    return undefined;
  }
  close(): void {}
}
