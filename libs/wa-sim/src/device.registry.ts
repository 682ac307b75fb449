import { SimMessageStore, type SimMessageRecord } from './message.store.js';
import type { SimInboundMessage, SimServerFrame } from './protocol.js';
import type { SimConnection } from './sim-connection.model.js';
import { SimError } from './sim.errors.js';
import { jidForPhone, lidForPhone, newCredentialToken, newMessageId } from './sim-ids.util.js';

export interface SimDevice {
  phoneNumber: string;
  token: string;
  waJid: string;
  waLid: string;
  linkedAt: number;
  /** The one live connection, if any. */
  conn: SimConnection | null;
  /** Frames waiting for the next login, with the message each one carries (for receipts). */
  queue: { frame: SimServerFrame; record: SimMessageRecord | null }[];
}

export interface SimDeviceView {
  phoneNumber: string;
  waJid: string;
  waLid: string;
  linkedAt: number;
  connected: boolean;
  clientId: string | null;
  queued: number;
  banned: boolean;
  channels: string[];
}

export type DeliveryOutcome = 'delivered' | 'queued' | 'dropped';

const PHONE_JID = /^(\d{5,20})@s\.whatsapp\.net$/;

/**
 * Linked devices (one per phone number), their credentials, bans, channel follows, and how
 * traffic reaches them: straight to the live connection, or into the offline queue.
 */
export class SimDeviceRegistry {
  private readonly devices = new Map<string, SimDevice>();
  private readonly tokens = new Map<string, string>();
  private readonly lids = new Map<string, string>();
  private readonly banned = new Set<string>();
  /** channel JID → follower numbers, and number → followed channels. Kept per number, so a
   * relinked number keeps its follows, as an account does. */
  private readonly followers = new Map<string, Set<string>>();
  private readonly follows = new Map<string, Set<string>>();
  readonly messages = new SimMessageStore();

  constructor(
    private readonly offlineQueueLimit: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.devices.size;
  }

  get(phoneNumber: string): SimDevice | undefined {
    return this.devices.get(phoneNumber);
  }

  require(phoneNumber: string): SimDevice {
    const device = this.devices.get(phoneNumber);
    if (!device) {
      throw new SimError('not_found', 'no linked device for this phone number', { phoneNumber });
    }
    return device;
  }

  byToken(token: string): SimDevice | undefined {
    const phone = this.tokens.get(token);
    return phone === undefined ? undefined : this.devices.get(phone);
  }

  all(): IterableIterator<SimDevice> {
    return this.devices.values();
  }

  /** Registers a new device with fresh credentials; the number must not be linked. */
  add(phoneNumber: string): SimDevice {
    const device: SimDevice = {
      phoneNumber,
      token: newCredentialToken(),
      waJid: jidForPhone(phoneNumber),
      waLid: lidForPhone(phoneNumber),
      linkedAt: this.now(),
      conn: null,
      queue: [],
    };
    this.devices.set(phoneNumber, device);
    this.tokens.set(device.token, phoneNumber);
    this.lids.set(device.waLid, phoneNumber);
    return device;
  }

  /** Forgets the device: its token stops working and its queue is dropped. */
  remove(device: SimDevice): void {
    this.tokens.delete(device.token);
    this.lids.delete(device.waLid);
    this.devices.delete(device.phoneNumber);
  }

  isBanned(phoneNumber: string): boolean {
    return this.banned.has(phoneNumber);
  }

  ban(phoneNumber: string): void {
    this.banned.add(phoneNumber);
  }

  unban(phoneNumber: string): void {
    this.banned.delete(phoneNumber);
  }

  /** `<digits>@s.whatsapp.net`, or the LID of a linked device → digits; null otherwise. */
  resolveJid(jid: string): string | null {
    const m = PHONE_JID.exec(jid);
    if (m?.[1] !== undefined) return m[1];
    return this.lids.get(jid) ?? null;
  }

  follow(phoneNumber: string, channelJid: string): void {
    addTo(this.followers, channelJid, phoneNumber);
    addTo(this.follows, phoneNumber, channelJid);
  }

  unfollow(phoneNumber: string, channelJid: string): boolean {
    const had = this.follows.get(phoneNumber)?.delete(channelJid) ?? false;
    this.followers.get(channelJid)?.delete(phoneNumber);
    return had;
  }

  followersOf(channelJid: string): ReadonlySet<string> {
    return this.followers.get(channelJid) ?? new Set();
  }

  /** Makes `conn` the device's live connection and hands it everything queued meanwhile. */
  attach(device: SimDevice, conn: SimConnection): void {
    device.conn = conn;
    const queue = device.queue;
    device.queue = [];
    for (const item of queue) {
      conn.send(item.frame);
      if (item.record) this.markDelivered(item.record);
    }
  }

  newRecord(
    from: string,
    to: string,
    text: string,
    source: SimMessageRecord['source'],
  ): SimMessageRecord {
    const record: SimMessageRecord = {
      id: newMessageId(),
      from,
      to,
      text,
      timestamp: this.now(),
      status: 'sent',
      source,
      deliveredAt: null,
      readAt: null,
    };
    this.messages.add(record);
    return record;
  }

  /** Delivers a message record to its recipient device as an inbound message. */
  deliverMessage(record: SimMessageRecord): DeliveryOutcome {
    const jid = jidForPhone(record.from);
    const message: SimInboundMessage = {
      id: record.id,
      chatJid: jid,
      fromJid: jid,
      timestamp: record.timestamp,
      text: record.text,
    };
    return this.deliver(record.to, { type: 'message', message }, record);
  }

  /** Sends to the device's live connection, or queues it for the next login. */
  deliver(
    phoneNumber: string,
    frame: SimServerFrame,
    record: SimMessageRecord | null,
  ): DeliveryOutcome {
    const device = this.devices.get(phoneNumber);
    if (!device) return 'dropped';
    if (device.conn) {
      device.conn.send(frame);
      if (record) this.markDelivered(record);
      return 'delivered';
    }
    device.queue.push({ frame, record });
    if (device.queue.length > this.offlineQueueLimit) device.queue.shift();
    return 'queued';
  }

  markDelivered(record: SimMessageRecord): void {
    if (record.status !== 'sent') return;
    record.status = 'delivered';
    record.deliveredAt = this.now();
    this.receipt(record, 'delivered', record.deliveredAt);
  }

  markRead(record: SimMessageRecord): void {
    if (record.status === 'read') return;
    this.markDelivered(record);
    record.status = 'read';
    record.readAt = this.now();
    this.receipt(record, 'read', record.readAt);
  }

  view(phoneNumber: string): SimDeviceView {
    const d = this.require(phoneNumber);
    return {
      phoneNumber: d.phoneNumber,
      waJid: d.waJid,
      waLid: d.waLid,
      linkedAt: d.linkedAt,
      connected: d.conn !== null,
      clientId: d.conn?.clientId ?? null,
      queued: d.queue.length,
      banned: this.banned.has(phoneNumber),
      channels: [...(this.follows.get(phoneNumber) ?? [])],
    };
  }

  /** Receipts go back to the sending device; control-injected messages have no device to tell. */
  private receipt(record: SimMessageRecord, status: 'delivered' | 'read', timestamp: number): void {
    if (record.source !== 'gateway') return;
    const receipt = { messageId: record.id, chatJid: jidForPhone(record.to), status, timestamp };
    this.deliver(record.from, { type: 'receipt', receipt }, null);
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}
