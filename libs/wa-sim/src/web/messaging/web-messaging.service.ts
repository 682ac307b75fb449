import {
  getBinaryNodeChild,
  getBinaryNodeChildren,
  proto,
  type BinaryNode,
} from '@whiskeysockets/baileys';
import { newMessageId } from '../../sim-ids.util.js';
import { SimError } from '../../sim.errors.js';
import type { WebLinkedDevice, WebMessagingHandler, WebSimContext } from '../messaging.port.js';
import { ChannelFollowers } from './channel-followers.registry.js';
import { CompanionOutbox } from './companion-outbox.queue.js';
import { SimMessageStore, type SimMessageRecord } from './message.store.js';
import {
  describeMessage,
  phoneMessage,
  textOfContent,
  type MediaFiles,
  type SimContentType,
  type SimMessageContent,
} from './message-content.js';
import { companionBundle, MessagingIqResponder, type MediaConn } from './messaging-iq.responder.js';
import type { SignalCiphertext } from './sim-phone.model.js';
import { SimPhoneRegistry } from './sim-phone.registry.js';

/** A message as the network recorded it, with how its sender addressed the chat. */
export interface WebMessageRecord extends SimMessageRecord {
  /** The chat JID the sender used: `<digits>@s.whatsapp.net` or `<lid>@lid`. */
  chatJid: string;
  /** A companion's message: the account's own phone decrypted its device-sent copy. */
  ownPhoneCopy?: boolean;
  /** The Signal message type it travelled as (to the phone, or to the companion). */
  encryption?: 'pkmsg' | 'msg';
  /** What kind of content it was. */
  type?: SimContentType;
  /** What the receiving phone read in it (or what the phone sent): type, media, place... */
  content?: SimMessageContent;
}

export interface WebMessagingOptions {
  /** Unacknowledged stanzas kept per companion; the oldest are dropped past it. */
  offlineQueueLimit?: number;
  /** The media host's files (encrypted, by direct path), for phones to download what they get. */
  mediaFiles?: MediaFiles;
}

export type PhoneAddressing = 'pn' | 'lid';

interface PhoneSent {
  from: string;
  to: string;
  message: proto.IMessage;
  attrs: Record<string, string>;
  retries: number;
}

/** WhatsApp's clients give up after five retry receipts for one message. */
const MAX_RETRIES = 5;
const MAX_PHONE_SENT = 10_000;

interface EncTarget {
  jid: string;
  enc: SignalCiphertext;
  attrs: Record<string, string>;
}

/**
 * The messaging half of the WhatsApp Web sim: every number that is not a linked companion is a
 * simulated phone with real Signal keys. A companion's message is decrypted by each phone it was
 * encrypted for (the peer, and the account's own phone for the device-sent copy), acknowledged,
 * then receipted `delivered` at once and `read` when the phone reads it. A phone's message is
 * Signal-encrypted for the companion. Whatever is pushed to a companion stays in its outbox until
 * the companion acknowledges it and is pushed again at each login meanwhile.
 */
export class WebMessagingService implements WebMessagingHandler {
  readonly messages = new SimMessageStore();
  readonly channels = new ChannelFollowers();
  private ctx: WebSimContext | undefined;
  private readonly phones = new SimPhoneRegistry(() => this.context);
  private readonly iq = new MessagingIqResponder(
    this.phones,
    () => this.context,
    () => this.mediaConn,
  );
  private mediaConn: MediaConn | undefined;
  /** What phones sent companions, to encrypt again when a companion asks (retry receipt). */
  private readonly phoneSent = new Map<string, PhoneSent>();
  private readonly outbox: CompanionOutbox;
  private mediaFiles: MediaFiles | undefined;

  constructor(options: WebMessagingOptions = {}) {
    this.outbox = new CompanionOutbox(options.offlineQueueLimit ?? 1_000);
    this.mediaFiles = options.mediaFiles;
  }

  /**
   * The media host: `media_conn` names it to clients, and phones download (and decrypt) what
   * they receive from it.
   */
  useMediaHost(host: MediaConn & { file: MediaFiles }): void {
    this.mediaConn = {
      hostname: host.hostname,
      auth: host.auth,
      maxUploadBytes: host.maxUploadBytes,
    };
    this.mediaFiles = (path) => host.file(path);
  }

  private get context(): WebSimContext {
    if (!this.ctx) throw new Error('the messaging handler is not attached to a network');
    return this.ctx;
  }

  // ---- the transport's calls ------------------------------------------------------------------

  attach(context: WebSimContext): void {
    this.ctx = context;
  }

  onLinked(): void {}

  onUnlinked(device: WebLinkedDevice): void {
    // Everything waiting was encrypted for the old device's keys.
    this.outbox.drop(device.phoneNumber);
  }

  onLogin(device: WebLinkedDevice): number {
    const pending = this.outbox.pending(device.phoneNumber);
    for (const node of pending) {
      this.context.push(device.phoneNumber, { ...node, attrs: { ...node.attrs, offline: '1' } });
    }
    return pending.length;
  }

  onDisconnected(): void {}

  onIq(_device: WebLinkedDevice, node: BinaryNode): BinaryNode | undefined {
    return this.iq.answer(node);
  }

  async onMessage(device: WebLinkedDevice, node: BinaryNode): Promise<void> {
    const { id, to } = node.attrs;
    if (!id || !to) return;
    const peerMessage = node.attrs.category === 'peer';
    let record: WebMessageRecord | undefined;
    let ownPhoneCopy = false;
    for (const target of encTargets(node)) {
      const resolved = this.phones.resolve(target.jid);
      if (!resolved) continue;
      if (resolved.device !== 0) {
        this.relay(device, resolved.phoneNumber, resolved.device, id, node, target);
        continue;
      }
      const message = await this.decryptOnPhone(device, resolved.phoneNumber, target.enc);
      if (!message || peerMessage) continue;
      if (resolved.phoneNumber === device.phoneNumber) {
        ownPhoneCopy ||= Boolean(message.deviceSentMessage);
        continue;
      }
      if (!record) {
        const content = await describeMessage(message, this.mediaFiles);
        record = this.record(
          device.phoneNumber,
          resolved.phoneNumber,
          id,
          to,
          textOfContent(content),
        );
        record.type = content.type;
        record.content = content;
      }
      record.encryption = target.enc.type;
    }
    this.context.push(device.phoneNumber, {
      tag: 'ack',
      attrs: { id, class: 'message', from: to, t: this.seconds() },
    });
    if (!record) return;
    record.ownPhoneCopy = ownPhoneCopy;
    // A simulated phone is always online: delivered at once.
    this.markDelivered(record);
  }

  onReceipt(device: WebLinkedDevice, node: BinaryNode): void {
    const { id, type, to } = node.attrs;
    if (!id) return;
    this.context.push(device.phoneNumber, {
      tag: 'ack',
      attrs: { id, class: 'receipt', from: to ?? '', ...(type ? { type } : {}) },
    });
    const ids = [id, ...getBinaryNodeChildren(getBinaryNodeChild(node, 'list'), 'item')]
      .map((item) => (typeof item === 'string' ? item : item.attrs.id))
      .filter((x): x is string => typeof x === 'string');
    // The companion could not decrypt a phone's message (its copy was used up, say by a
    // delivery it decrypted but never stored): the phone encrypts it again, as WhatsApp's do.
    if (type === 'retry') void this.resendOnRetry(device, id);
    for (const messageId of ids) {
      // A receipt for a message the network pushed is the companion's acknowledgement of it
      // (a `retry` too: what follows is the phone's new copy).
      this.outbox.acknowledge(device.phoneNumber, CompanionOutbox.key('message', messageId));
      const record = this.messages.get(messageId) as WebMessageRecord | undefined;
      if (!record || record.to !== device.phoneNumber || type === 'retry') continue;
      // `read-self`: read with read receipts off, so the sender is not told.
      if (type === 'read' || type === 'read-self') this.markRead(record, type === 'read');
      else this.markDelivered(record);
    }
  }

  onAck(device: WebLinkedDevice, node: BinaryNode): void {
    const { id, type } = node.attrs;
    const kind = node.attrs.class;
    if (!id || !kind) return;
    this.outbox.acknowledge(device.phoneNumber, CompanionOutbox.key(kind, id, type));
  }

  /**
   * A chat state (`<chatstate to><composing/></chatstate>`, Baileys' `sendPresenceUpdate` to a
   * chat) is what the other phone shows as "typing…": recorded for the control API. Other
   * stanzas (presence, ib) change nothing a phone keeps.
   */
  onOtherStanza(device: WebLinkedDevice, node: BinaryNode): void {
    if (node.tag !== 'chatstate' || !Array.isArray(node.content)) return;
    const state = node.content[0]?.tag;
    const to = node.attrs.to ?? '';
    if (state !== 'composing' && state !== 'paused') return;
    const user = to.split('@')[0]?.split(':')[0] ?? '';
    const phone = to.endsWith('@lid') ? this.context.phoneByLid(to) : user;
    if (!phone) return;
    this.messages.recordPresence(device.phoneNumber, phone, state, this.context.now());
  }

  close(): void {}

  // ---- the control API's calls ----------------------------------------------------------------

  /** True when the number has a linked companion on the WhatsApp Web side. */
  isLinked(phoneNumber: string): boolean {
    return this.context.device(phoneNumber) !== undefined;
  }

  /**
   * The simulated phone `from` sends `text` (or a whole message: media metadata, a place, a
   * contact, a reaction, a reply) to the companion of `to`, Signal-encrypted.
   */
  async sendFromPhone(
    from: string,
    to: string,
    text: string | proto.IMessage,
    addressing: PhoneAddressing = 'pn',
  ): Promise<{ id: string; timestamp: number; delivery: 'delivered' | 'queued' }> {
    const device = this.context.device(to);
    if (!device) {
      throw new SimError('not_found', 'no linked device for this phone number', {
        phoneNumber: to,
      });
    }
    const phone = this.phones.get(from);
    const message: proto.IMessage = typeof text === 'string' ? { conversation: text } : text;
    const content = await describeMessage(message);
    const enc = await phone.encrypt(device.lid, device.keys.identityKey, message, () =>
      companionBundle(this.context, to, device.deviceId),
    );
    const pn = `${from}@s.whatsapp.net`;
    const sender: Record<string, string> =
      addressing === 'lid'
        ? { from: phone.lid, sender_pn: pn, addressing_mode: 'lid' }
        : { from: pn, sender_lid: phone.lid };
    const chatJid = addressing === 'lid' ? phone.lid : pn;
    const record = this.record(
      from,
      to,
      newMessageId(),
      chatJid,
      textOfContent(content),
      'control',
    );
    record.encryption = enc.type;
    record.type = content.type;
    record.content = content;
    const stanzaType =
      content.type === 'text' ? 'text' : content.type === 'reaction' ? 'reaction' : 'media';
    const node: BinaryNode = {
      tag: 'message',
      attrs: { id: record.id, t: this.seconds(record.timestamp), type: stanzaType, ...sender },
      content: [{ tag: 'enc', attrs: { v: '2', type: enc.type }, content: enc.ciphertext }],
    };
    this.rememberSent(record.id, { from, to, message, attrs: node.attrs, retries: 0 });
    const live = this.deliver(to, CompanionOutbox.key('message', record.id), node);
    return { id: record.id, timestamp: record.timestamp, delivery: live ? 'delivered' : 'queued' };
  }

  private rememberSent(id: string, sent: PhoneSent): void {
    this.phoneSent.set(id, sent);
    if (this.phoneSent.size > MAX_PHONE_SENT)
      this.phoneSent.delete(this.phoneSent.keys().next().value as string);
  }

  private async resendOnRetry(device: WebLinkedDevice, id: string): Promise<void> {
    const sent = this.phoneSent.get(id);
    if (!sent || sent.to !== device.phoneNumber || sent.retries >= MAX_RETRIES) return;
    sent.retries += 1;
    try {
      const enc = await this.phones
        .get(sent.from)
        .encrypt(device.lid, device.keys.identityKey, sent.message, () =>
          companionBundle(this.context, sent.to, device.deviceId),
        );
      const node: BinaryNode = {
        tag: 'message',
        attrs: { ...sent.attrs },
        content: [{ tag: 'enc', attrs: { v: '2', type: enc.type }, content: enc.ciphertext }],
      };
      this.deliver(sent.to, CompanionOutbox.key('message', id), node);
    } catch (err) {
      this.context.logger.warn({ err, id }, 'a simulated phone could not send a message again');
    }
  }

  /** `sendFromPhone` with a content as the control API takes it (see `phoneMessage`). */
  sendContentFromPhone(
    from: string,
    to: string,
    content: Record<string, unknown>,
    addressing: PhoneAddressing = 'pn',
  ): Promise<{ id: string; timestamp: number; delivery: 'delivered' | 'queued' }> {
    return this.sendFromPhone(from, to, phoneMessage(content), addressing);
  }

  /** A channel post reaches every follower with a linked companion, as a newsletter message. */
  postToChannel(
    channelJid: string,
    text: string,
    post: { id: string; timestamp: number } = { id: newMessageId(), timestamp: this.context.now() },
  ): { id: string; timestamp: number; delivered: number; queued: number } {
    const { id, timestamp } = post;
    const node: BinaryNode = {
      tag: 'message',
      attrs: {
        from: channelJid,
        id,
        server_id: this.channels.nextServerId(channelJid),
        t: this.seconds(timestamp),
        type: 'text',
      },
      content: [
        {
          tag: 'plaintext',
          attrs: {},
          content: proto.Message.encode({ conversation: text }).finish(),
        },
      ],
    };
    let delivered = 0;
    let queued = 0;
    for (const phoneNumber of this.channels.followersOf(channelJid)) {
      if (!this.isLinked(phoneNumber)) continue;
      if (this.deliver(phoneNumber, CompanionOutbox.key('message', id), node)) delivered++;
      else queued++;
    }
    return { id, timestamp, delivered, queued };
  }

  /** The phone reads what companions sent it (every unread message, or only `ids`). */
  readOnPhone(phoneNumber: string, ids: readonly string[] | null): { read: number } {
    const wanted = ids ? new Set(ids) : null;
    let read = 0;
    for (const record of this.messages.inbox(phoneNumber)) {
      if (record.status === 'read' || (wanted && !wanted.has(record.id))) continue;
      this.markRead(record as WebMessageRecord);
      read++;
    }
    return { read };
  }

  /** Stanzas pushed to a companion and not yet acknowledged by it. */
  unacknowledged(phoneNumber: string): number {
    return this.outbox.count(phoneNumber);
  }

  // ---- internals ------------------------------------------------------------------------------

  private async decryptOnPhone(
    device: WebLinkedDevice,
    phoneNumber: string,
    enc: SignalCiphertext,
  ): Promise<proto.IMessage | undefined> {
    const phone = this.phones.get(phoneNumber);
    try {
      const message = await phone.decrypt(device.lid, enc);
      if (enc.type === 'pkmsg') phone.noteSessionIdentity(device.lid, device.keys.identityKey);
      return message;
    } catch (err) {
      this.context.logger.warn(
        { err, from: device.jid, phoneNumber, type: enc.type },
        'a simulated phone could not decrypt a message',
      );
      return undefined;
    }
  }

  /** Another number's companion device gets the ciphertext as is: the network cannot read it. */
  private relay(
    sender: WebLinkedDevice,
    phoneNumber: string,
    deviceId: number,
    id: string,
    node: BinaryNode,
    target: EncTarget,
  ): void {
    const peer = this.context.device(phoneNumber);
    if (!peer || peer.deviceId !== deviceId || phoneNumber === sender.phoneNumber) return;
    const lid = target.jid.endsWith('@lid');
    const relayed: BinaryNode = {
      tag: 'message',
      attrs: {
        id,
        t: this.seconds(),
        type: node.attrs.type ?? 'text',
        ...(lid
          ? {
              from: sender.lid,
              sender_pn: `${sender.phoneNumber}@s.whatsapp.net`,
              addressing_mode: 'lid',
            }
          : { from: sender.jid, sender_lid: sender.accountLid }),
      },
      content: [{ tag: 'enc', attrs: target.attrs, content: target.enc.ciphertext }],
    };
    this.deliver(phoneNumber, CompanionOutbox.key('message', id), relayed);
  }

  private record(
    from: string,
    to: string,
    id: string,
    chatJid: string,
    text: string,
    source: SimMessageRecord['source'] = 'gateway',
  ): WebMessageRecord {
    const record: WebMessageRecord = {
      id,
      from,
      to,
      text,
      timestamp: this.context.now(),
      status: 'sent',
      source,
      deliveredAt: null,
      readAt: null,
      chatJid,
    };
    this.messages.add(record);
    return record;
  }

  private markDelivered(record: WebMessageRecord): void {
    if (record.status !== 'sent') return;
    record.status = 'delivered';
    record.deliveredAt = this.context.now();
    this.receipt(record, undefined);
  }

  private markRead(record: WebMessageRecord, tellSender = true): void {
    if (record.status === 'read') return;
    this.markDelivered(record);
    record.status = 'read';
    record.readAt = this.context.now();
    if (tellSender) this.receipt(record, 'read');
  }

  /** Tells the sending companion; a phone's own message has no companion to tell. */
  private receipt(record: WebMessageRecord, type: 'read' | undefined): void {
    if (record.source !== 'gateway') return;
    const node: BinaryNode = {
      tag: 'receipt',
      attrs: { from: record.chatJid, id: record.id, t: this.seconds(), ...(type ? { type } : {}) },
    };
    this.deliver(record.from, CompanionOutbox.key('receipt', record.id, type), node);
  }

  /** Pushes to the live connection, keeping the stanza until the companion acknowledges it. */
  private deliver(phoneNumber: string, key: string, node: BinaryNode): boolean {
    if (!this.isLinked(phoneNumber)) return false;
    this.outbox.add(phoneNumber, key, node);
    return this.context.push(phoneNumber, node);
  }

  private seconds(ms = this.context.now()): string {
    return String(Math.floor(ms / 1000));
  }
}

/** The `enc` children of a companion's message, with the device JID each is for. */
function encTargets(node: BinaryNode): EncTarget[] {
  const targets: EncTarget[] = [];
  const add = (jid: string | undefined, enc: BinaryNode): void => {
    const type = enc.attrs.type;
    if (!jid || (type !== 'pkmsg' && type !== 'msg') || !(enc.content instanceof Uint8Array))
      return;
    targets.push({ jid, enc: { type, ciphertext: enc.content }, attrs: enc.attrs });
  };
  for (const to of getBinaryNodeChildren(getBinaryNodeChild(node, 'participants'), 'to')) {
    for (const enc of getBinaryNodeChildren(to, 'enc')) add(to.attrs.jid, enc);
  }
  for (const enc of getBinaryNodeChildren(node, 'enc')) add(node.attrs.to, enc);
  return targets;
}
