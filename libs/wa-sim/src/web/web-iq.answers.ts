import {
  getBinaryNodeChild,
  getBinaryNodeChildren,
  type BinaryNode,
} from '@whiskeysockets/baileys';
import type { WebCompanionKeys, WebLinkedDevice } from './messaging.port.js';

export const S_WHATSAPP_NET = 's.whatsapp.net';

/** What the default answers need to know about the network. */
export interface WebIqDirectory {
  device(phoneNumber: string): WebLinkedDevice | undefined;
  phoneByLid(lid: string): string | undefined;
  lidOf(phoneNumber: string): string;
  takePreKey(phoneNumber: string): { keyId: number; publicKey: Buffer } | undefined;
}

export function iqResult(request: BinaryNode, content?: BinaryNode[]): BinaryNode {
  const node: BinaryNode = {
    tag: 'iq',
    attrs: { from: S_WHATSAPP_NET, type: 'result', id: request.attrs['id'] ?? '' },
  };
  if (content) node.content = content;
  return node;
}

export function iqError(request: BinaryNode, code: number, text: string): BinaryNode {
  return {
    tag: 'iq',
    attrs: { from: S_WHATSAPP_NET, type: 'error', id: request.attrs['id'] ?? '' },
    content: [{ tag: 'error', attrs: { code: String(code), text } }],
  };
}

/** Parses a prekey upload (`iq set xmlns=encrypt`) into the companion's keys. */
export function readKeyUpload(node: BinaryNode, keys: WebCompanionKeys): boolean {
  const registration = bytes(getBinaryNodeChild(node, 'registration'));
  const identity = bytes(getBinaryNodeChild(node, 'identity'));
  const skey = getBinaryNodeChild(node, 'skey');
  const list = getBinaryNodeChild(node, 'list');
  if (!registration && !identity && !skey && !list) return false;
  if (registration?.length === 4) keys.registrationId = registration.readUInt32BE(0);
  if (identity?.length === 32) keys.identityKey = identity;
  if (skey) {
    const id = bytes(getBinaryNodeChild(skey, 'id'));
    const value = bytes(getBinaryNodeChild(skey, 'value'));
    const signature = bytes(getBinaryNodeChild(skey, 'signature'));
    if (id && value && signature) {
      keys.signedPreKey = { keyId: id.readUIntBE(0, id.length), publicKey: value, signature };
    }
  }
  for (const key of getBinaryNodeChildren(list, 'key')) {
    const id = bytes(getBinaryNodeChild(key, 'id'));
    const value = bytes(getBinaryNodeChild(key, 'value'));
    if (id && value) keys.preKeys.set(id.readUIntBE(0, id.length), value);
  }
  return true;
}

/**
 * `usync`: each listed user's devices (0 = the phone, plus its linked companion) and LID.
 * Answers the protocols asked for: `devices`, `lid`, `contact` (everyone is on WhatsApp),
 * `status`, `disappearing_mode`.
 */
export function answerUsync(node: BinaryNode, directory: WebIqDirectory): BinaryNode {
  const usync = getBinaryNodeChild(node, 'usync');
  const query = getBinaryNodeChild(usync, 'query');
  const asked = new Set(
    (Array.isArray(query?.content) ? query.content : []).map((child) => child.tag),
  );
  const users: BinaryNode[] = [];
  for (const user of getBinaryNodeChildren(getBinaryNodeChild(usync, 'list'), 'user')) {
    const jid = user.attrs['jid'] ?? phoneJidOf(user);
    if (!jid) continue;
    const phone = phoneOf(jid, directory);
    const content: BinaryNode[] = [];
    if (phone !== null) {
      const device = directory.device(phone);
      if (asked.has('devices')) {
        const list: BinaryNode[] = [{ tag: 'device', attrs: { id: '0' } }];
        if (device) {
          list.push({ tag: 'device', attrs: { id: String(device.deviceId), 'key-index': '1' } });
        }
        content.push({
          tag: 'devices',
          attrs: {},
          content: [{ tag: 'device-list', attrs: {}, content: list }],
        });
      }
      if (asked.has('lid')) content.push({ tag: 'lid', attrs: { val: directory.lidOf(phone) } });
      if (asked.has('contact')) content.push({ tag: 'contact', attrs: { type: 'in' } });
      if (asked.has('status')) content.push({ tag: 'status', attrs: { t: '0' } });
      if (asked.has('disappearing_mode')) {
        content.push({ tag: 'disappearing_mode', attrs: { duration: '0', t: '0' } });
      }
    } else if (asked.has('contact')) {
      content.push({ tag: 'contact', attrs: { type: 'out' } });
    }
    users.push({ tag: 'user', attrs: { jid }, content });
  }
  return iqResult(node, [
    {
      tag: 'usync',
      attrs: {
        sid: usync?.attrs['sid'] ?? '',
        index: '0',
        last: 'true',
        mode: usync?.attrs['mode'] ?? 'query',
        context: usync?.attrs['context'] ?? 'interactive',
      },
      content: [{ tag: 'list', attrs: {}, content: users }],
    },
  ]);
}

/** `encrypt` get `<key><user jid/>…`: the prekey bundles of linked companions. */
export function answerPreKeyFetch(node: BinaryNode, directory: WebIqDirectory): BinaryNode {
  const users: BinaryNode[] = [];
  for (const user of getBinaryNodeChildren(getBinaryNodeChild(node, 'key'), 'user')) {
    const jid = user.attrs['jid'] ?? '';
    const phone = phoneOf(jid, directory);
    const device = phone === null ? undefined : directory.device(phone);
    const deviceId = /:(\d+)@/.exec(jid)?.[1];
    if (!device || phone === null || deviceId !== String(device.deviceId)) {
      users.push({
        tag: 'user',
        attrs: { jid },
        content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }],
      });
      continue;
    }
    const { keys } = device;
    const content: BinaryNode[] = [
      { tag: 'registration', attrs: {}, content: uint(keys.registrationId, 4) },
      { tag: 'type', attrs: {}, content: Buffer.from([5]) },
      { tag: 'identity', attrs: {}, content: keys.identityKey },
      {
        tag: 'skey',
        attrs: {},
        content: [
          { tag: 'id', attrs: {}, content: uint(keys.signedPreKey.keyId, 3) },
          { tag: 'value', attrs: {}, content: keys.signedPreKey.publicKey },
          { tag: 'signature', attrs: {}, content: keys.signedPreKey.signature },
        ],
      },
    ];
    const preKey = directory.takePreKey(phone);
    if (preKey) {
      content.push({
        tag: 'key',
        attrs: {},
        content: [
          { tag: 'id', attrs: {}, content: uint(preKey.keyId, 3) },
          { tag: 'value', attrs: {}, content: preKey.publicKey },
        ],
      });
    }
    users.push({ tag: 'user', attrs: { jid }, content });
  }
  return iqResult(node, [{ tag: 'list', attrs: {}, content: users }]);
}

/** `abt` props: a few server properties, as WhatsApp sends them. */
export function answerProps(node: BinaryNode): BinaryNode {
  return iqResult(node, [
    {
      tag: 'props',
      attrs: { protocol: '1', hash: 'wa-sim' },
      content: [{ tag: 'prop', attrs: { name: 'wa_sim', value: '1' } }],
    },
  ]);
}

export function answerPrivacy(node: BinaryNode): BinaryNode {
  const categories = ['last', 'online', 'profile', 'status', 'groupadd', 'readreceipts', 'calladd'];
  return iqResult(node, [
    {
      tag: 'privacy',
      attrs: {},
      content: categories.map((name) => ({
        tag: 'category',
        attrs: {
          name,
          value: name === 'readreceipts' ? 'all' : name === 'online' ? 'all' : 'contacts',
        },
      })),
    },
  ]);
}

export function uint(value: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUIntBE(value, 0, length);
  return out;
}

/** A jid's phone number: `<digits>[:<device>]@s.whatsapp.net`, or a known LID; null otherwise. */
function phoneOf(jid: string, directory: WebIqDirectory): string | null {
  const pn = /^(\d{5,20})(?::\d+)?@s\.whatsapp\.net$/.exec(jid);
  if (pn?.[1] !== undefined) return pn[1];
  if (jid.endsWith('@lid')) return directory.phoneByLid(jid) ?? null;
  return null;
}

function phoneJidOf(user: BinaryNode): string | undefined {
  const contact = getBinaryNodeChild(user, 'contact');
  const text =
    typeof contact?.content === 'string'
      ? contact.content
      : contact?.content instanceof Uint8Array
        ? Buffer.from(contact.content).toString()
        : undefined;
  const digits = text?.replace(/\D/g, '');
  return digits ? `${digits}@s.whatsapp.net` : undefined;
}

function bytes(node: BinaryNode | undefined): Buffer | undefined {
  return node?.content instanceof Uint8Array ? Buffer.from(node.content) : undefined;
}
