import {
  WA_SIM_PROTOCOL,
  type SimClientFrame,
  type SimPresence,
  type SimServerFrame,
} from './protocol.js';

/**
 * Structural checks for frames off the wire. Both ends validate what they receive: a frame that
 * does not decode is a protocol violation, never something to guess at.
 */

type Obj = Record<string, unknown>;

const PRESENCES: readonly SimPresence[] = ['composing', 'paused', 'available'];
/** Bounds that keep one connection from holding much memory in the sim. */
const MAX_ID_LENGTH = 200;
const MAX_TEXT_LENGTH = 65_536;
const MAX_READ_BATCH = 1_000;

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

export function decodeClientFrame(text: string): SimClientFrame | null {
  const f = parse(text);
  if (!f) return null;
  switch (f['type']) {
    case 'hello':
      if (f['protocol'] !== WA_SIM_PROTOCOL || !isStr(f['clientId'])) return null;
      if (f['token'] !== undefined && !isStr(f['token'])) return null;
      return f['token'] === undefined
        ? { type: 'hello', protocol: WA_SIM_PROTOCOL, clientId: f['clientId'] }
        : { type: 'hello', protocol: WA_SIM_PROTOCOL, clientId: f['clientId'], token: f['token'] };
    case 'pairing_code.request':
      if (!isReqId(f['reqId']) || !isStr(f['phoneNumber'], 32)) return null;
      return { type: 'pairing_code.request', reqId: f['reqId'], phoneNumber: f['phoneNumber'] };
    case 'message.send':
      if (!isReqId(f['reqId']) || !isStr(f['to']) || !isStr(f['text'], MAX_TEXT_LENGTH)) {
        return null;
      }
      return { type: 'message.send', reqId: f['reqId'], to: f['to'], text: f['text'] };
    case 'presence.send': {
      const presence = f['presence'];
      if (!isReqId(f['reqId']) || !isStr(f['to'])) return null;
      if (!PRESENCES.includes(presence as SimPresence)) return null;
      return {
        type: 'presence.send',
        reqId: f['reqId'],
        to: f['to'],
        presence: presence as SimPresence,
      };
    }
    case 'messages.read': {
      const list = f['messages'];
      if (!isReqId(f['reqId']) || !Array.isArray(list) || list.length > MAX_READ_BATCH) return null;
      const messages: { chatJid: string; id: string }[] = [];
      for (const m of list) {
        if (!isObj(m) || !isStr(m['chatJid']) || !isStr(m['id'])) return null;
        messages.push({ chatJid: m['chatJid'], id: m['id'] });
      }
      return { type: 'messages.read', reqId: f['reqId'], messages };
    }
    case 'logout':
      return isReqId(f['reqId']) ? { type: 'logout', reqId: f['reqId'] } : null;
    default:
      return null;
  }
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
