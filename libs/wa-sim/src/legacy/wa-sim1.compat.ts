/**
 * TEMPORARY: what the gateway's retiring simulated adapter (libs/whatsapp/src/simulated) imports
 * from this package to compile and load. No server speaks `wa-sim/1` any more (the sim serves
 * WhatsApp Web only, at `/ws/chat`): delete this file, and its export in index.ts, together
 * with that adapter.
 */

export const WA_SIM_PROTOCOL = 'wa-sim/1';
/** WebSocket close code = offset + WhatsApp disconnect code. */
export const WA_SIM_CLOSE_CODE_OFFSET = 4000;
/** WebSocket close code for a protocol violation (malformed or out-of-place frame). */
export const WA_SIM_PROTOCOL_ERROR_CLOSE_CODE = 1008;

/** The WhatsApp code carried by a WebSocket close code, or null when it carries none. */
export function fromWsCloseCode(wsCode: number): number | null {
  return wsCode > WA_SIM_CLOSE_CODE_OFFSET && wsCode < WA_SIM_CLOSE_CODE_OFFSET + 1000
    ? wsCode - WA_SIM_CLOSE_CODE_OFFSET
    : null;
}

type SimPresence = 'composing' | 'paused' | 'available';

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

// ---- decoding server frames (the adapter's side) ----------------------------------------------

type Obj = Record<string, unknown>;

/** Bounds on what one frame may carry. */
const MAX_ID_LENGTH = 200;

function parse(text: string): Obj | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObj(value) ? value : null;
  } catch {
    return null;
  }
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStr(value: unknown, max = MAX_ID_LENGTH): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

function isReqId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isNum(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isIdentity(v: unknown): boolean {
  return isObj(v) && isStr(v['phoneNumber']) && isStr(v['waJid']) && isStr(v['waLid']);
}

export function decodeServerFrame(text: string): SimServerFrame | null {
  const f = parse(text);
  if (!f) return null;
  switch (f['type']) {
    case 'qr':
      return isStr(f['ref']) && isStr(f['qr']) && isNum(f['expiresAt'])
        ? (f as unknown as SimServerFrame)
        : null;
    case 'paired': {
      const c = f['credentials'];
      return isIdentity(c) && isStr((c as Obj)['token'], 1_000)
        ? (f as unknown as SimServerFrame)
        : null;
    }
    case 'open':
      return isIdentity(f['identity']) ? (f as unknown as SimServerFrame) : null;
    case 'message': {
      const m = f['message'];
      return isObj(m) &&
        isStr(m['id']) &&
        isStr(m['chatJid']) &&
        isStr(m['fromJid']) &&
        isNum(m['timestamp']) &&
        typeof m['text'] === 'string'
        ? (f as unknown as SimServerFrame)
        : null;
    }
    case 'receipt': {
      const r = f['receipt'];
      return isObj(r) &&
        isStr(r['messageId']) &&
        isStr(r['chatJid']) &&
        (r['status'] === 'delivered' || r['status'] === 'read') &&
        isNum(r['timestamp'])
        ? (f as unknown as SimServerFrame)
        : null;
    }
    case 'channel_message': {
      const m = f['message'];
      return isObj(m) &&
        isStr(m['id']) &&
        isStr(m['channelJid']) &&
        isNum(m['timestamp']) &&
        typeof m['text'] === 'string'
        ? (f as unknown as SimServerFrame)
        : null;
    }
    case 'result':
      if (!isReqId(f['reqId']) || typeof f['ok'] !== 'boolean') return null;
      if (f['ok']) return isObj(f['data']) ? (f as unknown as SimServerFrame) : null;
      return isObj(f['error']) &&
        isStr(f['error']['code']) &&
        typeof f['error']['message'] === 'string'
        ? (f as unknown as SimServerFrame)
        : null;
    case 'close':
      return isNum(f['code']) && typeof f['reason'] === 'string'
        ? (f as unknown as SimServerFrame)
        : null;
    default:
      return null;
  }
}
