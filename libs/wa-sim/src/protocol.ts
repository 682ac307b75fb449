/**
 * The wa-sim wire protocol, version `wa-sim/1`: how a gateway client talks to the simulated
 * WhatsApp network, as Baileys talks to WhatsApp.
 *
 * Transport: one WebSocket per connection at `ws://<host>:<port>/ws`; one JSON object per text
 * frame, each with a `type`. All times are integer milliseconds since the Unix epoch.
 *
 * Handshake: the client's first frame is `hello` (`clientId` = the gateway id).
 * - Without `token` → pairing mode. The server sends a `qr` frame (payload `SIM-QR:<ref>`) at once
 *   and a fresh one each time the previous expires (`qrTtlMs`); after `qrMaxRefs` unscanned refs it
 *   closes with 408. The client may send `pairing_code.request` instead: QR rotation stops and the
 *   connection lives until the code expires (then 408).
 *   When the phone scans the QR or enters the code (control API), the server sends `paired` with
 *   the device credentials and closes with 515 (restart required). The client stores the
 *   credentials and reconnects with them.
 * - With `token` → login. Unknown or unlinked token → close 401; banned number → close 403.
 *   Otherwise the server sends `open` with the identity, then everything queued while the device
 *   was offline (`message`, `receipt`, `channel_message`), then live traffic. If the device already
 *   had a live connection, that one is closed with 440 (connection replaced).
 *
 * Requests: client frames carrying `reqId` get exactly one `result` frame with the same `reqId`.
 * A message sent by a device produces a `delivered` receipt once the recipient has it (at once for
 * a plain phone number; on delivery for another linked device) and a `read` receipt when the
 * recipient reads it.
 *
 * Closing: WebSocket reserves close codes below 3000, so the server closes with
 * `4000 + <WhatsApp code>` (4515, 4440, 4401, 4403, 4408, 4428...) and sends a `close` frame with
 * the plain WhatsApp code and a reason just before. 1008 means a protocol violation (bad frame);
 * any other close code means the transport dropped.
 */

export const WA_SIM_PROTOCOL = 'wa-sim/1';
export const WA_SIM_QR_PREFIX = 'SIM-QR:';
/** WebSocket close code = offset + WhatsApp disconnect code. */
export const WA_SIM_CLOSE_CODE_OFFSET = 4000;
/** WebSocket close code for a protocol violation (malformed or out-of-place frame). */
export const WA_SIM_PROTOCOL_ERROR_CLOSE_CODE = 1008;

export function toWsCloseCode(waCode: number): number {
  return WA_SIM_CLOSE_CODE_OFFSET + waCode;
}

/** The WhatsApp code carried by a WebSocket close code, or null when it carries none. */
export function fromWsCloseCode(wsCode: number): number | null {
  return wsCode > WA_SIM_CLOSE_CODE_OFFSET && wsCode < WA_SIM_CLOSE_CODE_OFFSET + 1000
    ? wsCode - WA_SIM_CLOSE_CODE_OFFSET
    : null;
}

export type SimPresence = 'composing' | 'paused' | 'available';

/** What a client must keep to log in again. Opaque to the client apart from `token`. */
export interface SimCredentials {
  token: string;
  phoneNumber: string;
  waJid: string;
  waLid: string;
}

export interface SimIdentity {
  phoneNumber: string;
  waJid: string;
  waLid: string;
}

export interface SimInboundMessage {
  id: string;
  chatJid: string;
  fromJid: string;
  timestamp: number;
  text: string;
}

export interface SimReceipt {
  messageId: string;
  /** The chat as the sender sees it: the recipient's JID. */
  chatJid: string;
  status: 'delivered' | 'read';
  timestamp: number;
}

export interface SimChannelMessage {
  id: string;
  channelJid: string;
  timestamp: number;
  text: string;
}

// ---- client → server -------------------------------------------------------------------------

export interface HelloFrame {
  type: 'hello';
  protocol: typeof WA_SIM_PROTOCOL;
  clientId: string;
  /** Device credential token from a previous `paired` frame; absent → pairing mode. */
  token?: string;
}

export interface PairingCodeRequestFrame {
  type: 'pairing_code.request';
  reqId: number;
  /** Digits with country code, no `+`. */
  phoneNumber: string;
}

export interface SendTextFrame {
  type: 'message.send';
  reqId: number;
  /** `<digits>@s.whatsapp.net` or the `@lid` of a linked device. */
  to: string;
  text: string;
}

export interface SendPresenceFrame {
  type: 'presence.send';
  reqId: number;
  to: string;
  presence: SimPresence;
}

export interface ReadMessagesFrame {
  type: 'messages.read';
  reqId: number;
  messages: { chatJid: string; id: string }[];
}

export interface LogoutFrame {
  type: 'logout';
  reqId: number;
}

export type SimRequestFrame =
  PairingCodeRequestFrame | SendTextFrame | SendPresenceFrame | ReadMessagesFrame | LogoutFrame;

export type SimClientFrame = HelloFrame | SimRequestFrame;

// ---- server → client -------------------------------------------------------------------------

export interface QrFrame {
  type: 'qr';
  ref: string;
  /** `SIM-QR:<ref>`: what a QR code would encode. */
  qr: string;
  expiresAt: number;
}

export interface PairedFrame {
  type: 'paired';
  credentials: SimCredentials;
}

export interface OpenFrame {
  type: 'open';
  identity: SimIdentity;
}

export interface MessageFrame {
  type: 'message';
  message: SimInboundMessage;
}

export interface ReceiptFrame {
  type: 'receipt';
  receipt: SimReceipt;
}

export interface ChannelMessageFrame {
  type: 'channel_message';
  message: SimChannelMessage;
}

export interface PairingCodeResultData {
  code: string;
  expiresAt: number;
}

export interface SendTextResultData {
  id: string;
  chatJid: string;
  timestamp: number;
}

export type SimResultData = PairingCodeResultData | SendTextResultData | Record<string, never>;

export type SimRequestErrorCode =
  'bad_request' | 'not_open' | 'not_pairing' | 'unsupported' | 'not_found' | 'forbidden';

export type ResultFrame =
  | { type: 'result'; reqId: number; ok: true; data: SimResultData }
  | {
      type: 'result';
      reqId: number;
      ok: false;
      error: { code: SimRequestErrorCode; message: string };
    };

/** Sent just before the server closes the socket with `4000 + code`. */
export interface CloseFrame {
  type: 'close';
  code: number;
  reason: string;
}

export type SimServerFrame =
  | QrFrame
  | PairedFrame
  | OpenFrame
  | MessageFrame
  | ReceiptFrame
  | ChannelMessageFrame
  | ResultFrame
  | CloseFrame;
