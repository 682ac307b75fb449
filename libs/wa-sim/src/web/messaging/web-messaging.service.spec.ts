import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  Curve,
  generateRegistrationId,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  proto,
  type BinaryNode,
} from '@whiskeysockets/baileys';
import { lidForPhone } from '../../sim-ids.util.js';
import type { WebLinkedDevice, WebSimContext, WebSimPhone } from '../messaging.port.js';
import { BaileysCompanionFixture } from './baileys-companion.fixture.js';
import type { PreKeyBundle } from './sim-phone.model.js';
import { WebMessagingService, type WebMessageRecord } from './web-messaging.service.js';

const ACCOUNT = '6281200000001';
const PEER = '6598700000002';

/**
 * The transport side of the seam, in memory: linked devices, who is online, and what was pushed
 * to each live connection. The companion itself is Baileys' own Signal repository.
 */
class TransportDouble implements WebSimContext {
  readonly devices = new Map<string, WebLinkedDevice>();
  readonly online = new Set<string>();
  readonly pushed = new Map<string, BinaryNode[]>();
  private readonly phones = new Map<string, WebSimPhone>();
  readonly logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

  link(phoneNumber: string, companion: BaileysCompanionFixture, deviceId = 7): WebLinkedDevice {
    const lidUser = lidForPhone(phoneNumber).split('@')[0] ?? '';
    const device: WebLinkedDevice = {
      phoneNumber,
      deviceId,
      jid: `${phoneNumber}:${deviceId}@s.whatsapp.net`,
      lid: `${lidUser}:${deviceId}@lid`,
      accountLid: `${lidUser}@lid`,
      keys: companion.uploaded,
      linkedAt: Date.now(),
    };
    this.devices.set(phoneNumber, device);
    this.online.add(phoneNumber);
    return device;
  }

  push(phoneNumber: string, node: BinaryNode): boolean {
    if (!this.online.has(phoneNumber)) return false;
    const list = this.pushed.get(phoneNumber) ?? [];
    list.push(node);
    this.pushed.set(phoneNumber, list);
    return true;
  }

  take(phoneNumber: string): BinaryNode[] {
    const list = this.pushed.get(phoneNumber) ?? [];
    this.pushed.set(phoneNumber, []);
    return list;
  }

  device(phoneNumber: string): WebLinkedDevice | undefined {
    return this.devices.get(phoneNumber);
  }

  deviceByLid(lid: string): WebLinkedDevice | undefined {
    return [...this.devices.values()].find((d) => d.accountLid === lid);
  }

  phoneByLid(lid: string): string | undefined {
    const account = lid.replace(/:\d+@lid$/, '@lid');
    return [...this.phones.values()].find((p) => p.lid === account)?.phoneNumber;
  }

  isOnline(phoneNumber: string): boolean {
    return this.online.has(phoneNumber);
  }

  phone(phoneNumber: string): WebSimPhone {
    let phone = this.phones.get(phoneNumber);
    if (!phone) {
      phone = {
        phoneNumber,
        identity: Curve.generateKeyPair(),
        registrationId: generateRegistrationId(),
        lid: lidForPhone(phoneNumber),
      };
      this.phones.set(phoneNumber, phone);
    }
    return phone;
  }

  takePreKey(phoneNumber: string): { keyId: number; publicKey: Buffer } | undefined {
    const preKeys = this.devices.get(phoneNumber)?.keys.preKeys;
    const first = preKeys?.entries().next().value;
    if (!preKeys || !first) return undefined;
    preKeys.delete(first[0]);
    return { keyId: first[0], publicKey: first[1] };
  }

  now(): number {
    return Date.now();
  }
}

/** Reads one user's bundle out of an `encrypt` iq answer, as the client parses it. */
function bundleFrom(answer: BinaryNode | undefined, jid: string): PreKeyBundle {
  const user = getBinaryNodeChildren(getBinaryNodeChild(answer, 'list'), 'user').find(
    (u) => u.attrs.jid === jid,
  );
  const buf = (node: BinaryNode | undefined, tag: string): Buffer => {
    const content = getBinaryNodeChild(node, tag)?.content;
    if (!(content instanceof Uint8Array)) throw new Error(`no ${tag} for ${jid}`);
    return Buffer.from(content);
  };
  const skey = getBinaryNodeChild(user, 'skey');
  const key = getBinaryNodeChild(user, 'key');
  return {
    registrationId: buf(user, 'registration').readUInt32BE(0),
    identityKey: buf(user, 'identity'),
    signedPreKey: {
      keyId: buf(skey, 'id').readUIntBE(0, 3),
      publicKey: buf(skey, 'value'),
      signature: buf(skey, 'signature'),
    },
    preKey: { keyId: buf(key, 'id').readUIntBE(0, 3), publicKey: buf(key, 'value') },
  };
}

function keyFetch(...jids: string[]): BinaryNode {
  return {
    tag: 'iq',
    attrs: { id: 'k1', xmlns: 'encrypt', type: 'get', to: 's.whatsapp.net' },
    content: [
      {
        tag: 'key',
        attrs: {},
        content: jids.map((jid) => ({ tag: 'user', attrs: { jid, reason: 'identity' } })),
      },
    ],
  };
}

describe('WebMessagingService', () => {
  let transport: TransportDouble;
  let service: WebMessagingService;
  let companion: BaileysCompanionFixture;
  let device: WebLinkedDevice;

  beforeEach(() => {
    transport = new TransportDouble();
    service = new WebMessagingService({ offlineQueueLimit: 10 });
    service.attach(transport);
    companion = new BaileysCompanionFixture();
    device = transport.link(ACCOUNT, companion);
  });

  /** What Baileys sends for a 1:1 text: the peer's copy and the device-sent copy for its phone. */
  async function companionSends(id: string, text: string): Promise<void> {
    const peerJid = `${PEER}@s.whatsapp.net`;
    const ownJid = `${ACCOUNT}@s.whatsapp.net`;
    const answer = service.onIq(device, keyFetch(peerJid, ownJid));
    await companion.startSession(peerJid, bundleFrom(answer, peerJid));
    await companion.startSession(ownJid, bundleFrom(answer, ownJid));
    const peerCopy = await companion.encrypt(peerJid, { conversation: text });
    const ownCopy = await companion.encrypt(ownJid, {
      deviceSentMessage: { destinationJid: peerJid, message: { conversation: text } },
    });
    const to = (jid: string, enc: { type: string; ciphertext: Uint8Array }): BinaryNode => ({
      tag: 'to',
      attrs: { jid },
      content: [{ tag: 'enc', attrs: { v: '2', type: enc.type }, content: enc.ciphertext }],
    });
    await service.onMessage(device, {
      tag: 'message',
      attrs: { id, to: peerJid, type: 'text' },
      content: [
        { tag: 'participants', attrs: {}, content: [to(ownJid, ownCopy), to(peerJid, peerCopy)] },
      ],
    });
  }

  it("decrypts a companion's text at the peer phone and its own phone, acks, then delivered and read receipts", async () => {
    await companionSends('3EB0AAAA', 'hello from the companion');

    const [record] = service.messages.inbox(PEER) as WebMessageRecord[];
    expect(record).toMatchObject({
      id: '3EB0AAAA',
      from: ACCOUNT,
      to: PEER,
      text: 'hello from the companion',
      status: 'delivered',
      ownPhoneCopy: true,
    });
    const pushed = transport.take(ACCOUNT);
    expect(pushed.map((n) => [n.tag, n.attrs.class ?? n.attrs.type ?? ''])).toEqual([
      ['ack', 'message'],
      ['receipt', ''],
    ]);
    expect(pushed[1]?.attrs).toMatchObject({ id: '3EB0AAAA', from: `${PEER}@s.whatsapp.net` });

    expect(service.readOnPhone(PEER, null)).toEqual({ read: 1 });
    const [read] = transport.take(ACCOUNT);
    expect(read?.attrs).toMatchObject({ id: '3EB0AAAA', type: 'read' });
    expect(service.messages.get('3EB0AAAA')?.status).toBe('read');
  });

  it("encrypts a phone's text for the companion: pkmsg, then msg once the companion answered", async () => {
    const sent = await service.sendFromPhone(PEER, ACCOUNT, 'hi from a phone');
    expect(sent.delivery).toBe('delivered');
    const [node] = transport.take(ACCOUNT);
    const peerPn = `${PEER}@s.whatsapp.net`;
    expect(node?.attrs).toMatchObject({ id: sent.id, from: peerPn, sender_lid: lidForPhone(PEER) });
    const enc = getBinaryNodeChild(node, 'enc');
    expect(enc?.attrs.type).toBe('pkmsg');
    const ciphertext = enc?.content as Uint8Array;
    expect((await companion.decrypt(peerPn, { type: 'pkmsg', ciphertext })).conversation).toBe(
      'hi from a phone',
    );

    await service.onMessage(device, {
      tag: 'message',
      attrs: { id: '3EB0BBBB', to: peerPn, type: 'text' },
      content: [
        {
          tag: 'enc',
          attrs: { v: '2', type: 'msg' },
          content: (await companion.encrypt(peerPn, { conversation: 'answer' })).ciphertext,
        },
      ],
    });
    expect(service.messages.get('3EB0BBBB')?.text).toBe('answer');
    transport.take(ACCOUNT);

    const second = await service.sendFromPhone(PEER, ACCOUNT, 'second', 'lid');
    const [node2] = transport.take(ACCOUNT);
    expect(node2?.attrs).toMatchObject({
      id: second.id,
      from: lidForPhone(PEER),
      sender_pn: peerPn,
      addressing_mode: 'lid',
    });
    const enc2 = getBinaryNodeChild(node2, 'enc');
    expect(enc2?.attrs.type).toBe('msg');
    const plain = await companion.decrypt(peerPn, {
      type: 'msg',
      ciphertext: enc2?.content as Uint8Array,
    });
    expect(plain.conversation).toBe('second');
  });

  it('queues for an offline companion and redelivers at every login until it is acknowledged', async () => {
    transport.online.delete(ACCOUNT);
    const sent = await service.sendFromPhone(PEER, ACCOUNT, 'while you were away');
    expect(sent.delivery).toBe('queued');

    transport.online.add(ACCOUNT);
    expect(service.onLogin(device)).toBe(1);
    const [first] = transport.take(ACCOUNT);
    expect(first?.attrs).toMatchObject({ id: sent.id, offline: '1' });

    // No receipt came back: the next login gets it again.
    expect(service.onLogin(device)).toBe(1);
    transport.take(ACCOUNT);
    service.onReceipt(device, {
      tag: 'receipt',
      attrs: { id: sent.id, to: `${PEER}@s.whatsapp.net`, type: 'inactive' },
    });
    expect(transport.take(ACCOUNT).map((n) => n.attrs.class)).toEqual(['receipt']);
    expect(service.messages.get(sent.id)?.status).toBe('delivered');
    expect(service.onLogin(device)).toBe(0);
  });

  it('a retry receipt stops redelivery without marking delivered; read-self marks read', async () => {
    const sent = await service.sendFromPhone(PEER, ACCOUNT, 'cannot decrypt this one');
    transport.take(ACCOUNT);
    const peerJid = `${PEER}@s.whatsapp.net`;
    service.onReceipt(device, {
      tag: 'receipt',
      attrs: { id: sent.id, to: peerJid, type: 'retry' },
    });
    expect(service.messages.get(sent.id)?.status).toBe('sent');
    expect(service.onLogin(device)).toBe(0);
    service.onReceipt(device, {
      tag: 'receipt',
      attrs: { id: sent.id, to: peerJid, type: 'read-self' },
    });
    expect(service.messages.get(sent.id)?.status).toBe('read');
    // Only the network's acks of the two receipts went to the companion.
    expect(transport.take(ACCOUNT).map((n) => n.tag)).toEqual(['ack', 'ack']);
  });

  it('keeps receipts for an offline sender until it acks them', async () => {
    await companionSends('3EB0CCCC', 'read me later');
    transport.take(ACCOUNT);
    service.onAck(device, {
      tag: 'ack',
      attrs: { id: '3EB0CCCC', class: 'receipt', to: `${PEER}@s.whatsapp.net` },
    });
    transport.online.delete(ACCOUNT);
    service.readOnPhone(PEER, ['3EB0CCCC']);
    transport.online.add(ACCOUNT);
    expect(service.onLogin(device)).toBe(1);
    expect(transport.take(ACCOUNT)[0]?.attrs).toMatchObject({ id: '3EB0CCCC', type: 'read' });
    service.onAck(device, {
      tag: 'ack',
      attrs: { id: '3EB0CCCC', class: 'receipt', type: 'read', to: `${PEER}@s.whatsapp.net` },
    });
    expect(service.onLogin(device)).toBe(0);
  });

  it('posts to channel followers as newsletter messages, acknowledged by an ack', () => {
    const channel = '120363012345678901@newsletter';
    service.channels.follow(ACCOUNT, channel);
    service.channels.follow('6281299999999', channel); // not linked: nobody to deliver to
    const post = service.postToChannel(channel, 'channel news');
    expect(post).toMatchObject({ delivered: 1, queued: 0 });
    const [node] = transport.take(ACCOUNT);
    expect(node?.attrs).toMatchObject({ from: channel, id: post.id, server_id: '100' });
    const plaintext = getBinaryNodeChild(node, 'plaintext')?.content as Uint8Array;
    expect(proto.Message.decode(plaintext).conversation).toBe('channel news');
    service.onAck(device, { tag: 'ack', attrs: { id: post.id, class: 'message', to: channel } });
    expect(service.unacknowledged(ACCOUNT)).toBe(0);
  });

  it('drops what waited for a device that was unlinked', async () => {
    transport.online.delete(ACCOUNT);
    await service.sendFromPhone(PEER, ACCOUNT, 'for the old device');
    service.onUnlinked(device);
    expect(service.unacknowledged(ACCOUNT)).toBe(0);
  });
});
