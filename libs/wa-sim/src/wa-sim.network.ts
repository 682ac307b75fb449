import { SimDeviceRegistry, type SimDevice, type SimDeviceView } from './device.registry.js';
import { decodeClientFrame } from './frame.codec.js';
import type { SimMessageRecord, SimPresenceRecord } from './message.store.js';
import { PairingRegistry, type PairingEntry } from './pairing.registry.js';
import {
  WA_SIM_PROTOCOL_ERROR_CLOSE_CODE,
  type HelloFrame,
  type SimRequestErrorCode,
  type SimRequestFrame,
  type SimResultData,
} from './protocol.js';
import { SimConnection, type SimSocket } from './sim-connection.model.js';
import { SimError } from './sim.errors.js';
import { jidForPhone, newMessageId } from './sim-ids.util.js';

/** What the sim logs through; a pino logger fits. */
export interface WaSimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WaSimNetworkOptions {
  qrTtlMs: number;
  /** Unscanned QR refs shown before closing with 408 (0 = rotate forever). */
  qrMaxRefs: number;
  pairingCodeTtlMs: number;
  /** Frames kept per offline device; the oldest are dropped past it. */
  offlineQueueLimit: number;
  logger: WaSimLogger;
  now?: () => number;
}

export interface SimEviction {
  phoneNumber: string;
  evictedClientId: string;
  byClientId: string;
  at: number;
}

export interface SimLinkResult {
  phoneNumber: string;
  waJid: string;
  waLid: string;
  /** The gateway whose pairing connection got the credentials. */
  clientId: string;
}

export interface SimLiveConnection {
  phoneNumber: string;
  clientId: string;
  since: number;
}

const MAX_EVICTIONS = 1_000;
const PAIRING_PHONE = /^[1-9]\d{6,14}$/;

class RequestError extends Error {
  constructor(
    readonly code: SimRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A request's reply, and what must happen once the client has seen it. */
interface Handled {
  data: SimResultData;
  after?: () => void;
}

/**
 * The simulated WhatsApp network: connections, pairing, at most one live connection per linked
 * device, and the operations the control API exposes. Transport-free: the server feeds it
 * sockets and frames. Single-threaded, so every method is atomic.
 */
export class WaSimNetwork {
  private readonly now: () => number;
  private readonly conns = new Set<SimConnection>();
  private readonly evictions: SimEviction[] = [];
  private readonly pairing: PairingRegistry;
  private readonly devices: SimDeviceRegistry;
  private nextConnId = 1;

  constructor(private readonly options: WaSimNetworkOptions) {
    this.now = options.now ?? Date.now;
    this.devices = new SimDeviceRegistry(options.offlineQueueLimit, this.now);
    this.pairing = new PairingRegistry({ ...options, now: this.now }, (conn, reason) =>
      this.closeConn(conn, 408, reason),
    );
  }

  // ---- transport side --------------------------------------------------------------------------

  open(socket: SimSocket): SimConnection {
    const conn = new SimConnection(this.nextConnId++, socket, this.now());
    this.conns.add(conn);
    return conn;
  }

  receive(conn: SimConnection, text: string): void {
    if (conn.state === 'closed') return;
    const frame = decodeClientFrame(text);
    if (!frame) return this.protocolError(conn, 'malformed frame');
    if (frame.type === 'hello') {
      if (conn.state !== 'hello') return this.protocolError(conn, 'duplicate hello');
      return this.hello(conn, frame);
    }
    if (conn.state === 'hello') return this.protocolError(conn, 'hello expected first');
    let handled: Handled;
    try {
      handled = this.request(conn, frame);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      const error = { code: err.code, message: err.message };
      conn.send({ type: 'result', reqId: frame.reqId, ok: false, error });
      return;
    }
    conn.send({ type: 'result', reqId: frame.reqId, ok: true, data: handled.data });
    handled.after?.();
  }

  /** The socket is gone (either side closed it). */
  closed(conn: SimConnection): void {
    this.detach(conn);
    conn.state = 'closed';
  }

  /** Closes connections that sent no hello within `timeoutMs` of opening. */
  sweepSilent(timeoutMs: number): void {
    const deadline = this.now() - timeoutMs;
    for (const conn of this.conns) {
      if (conn.state === 'hello' && conn.openedAt <= deadline) {
        this.closeConn(conn, 408, 'no hello');
      }
    }
  }

  shutdown(): void {
    for (const conn of [...this.conns]) {
      this.detach(conn);
      conn.closeRaw(1001, 'network shutting down');
    }
    this.pairing.clear();
  }

  // ---- control side ----------------------------------------------------------------------------

  scanQr(qr: string, phoneNumber: string): SimLinkResult {
    return this.link(this.pairing.findByQr(qr), phoneNumber);
  }

  enterPairingCode(code: string, phoneNumber: string): SimLinkResult {
    return this.link(this.pairing.findByCode(code, phoneNumber), phoneNumber);
  }

  /** A phone (any number) sends `text` to a linked device. */
  injectMessage(
    from: string,
    to: string,
    text: string,
  ): { id: string; timestamp: number; delivery: 'delivered' | 'queued' } {
    this.devices.require(to);
    const record = this.devices.newRecord(from, to, text, 'control');
    const delivery = this.devices.deliverMessage(record) === 'delivered' ? 'delivered' : 'queued';
    return { id: record.id, timestamp: record.timestamp, delivery };
  }

  postToChannel(
    channelJid: string,
    text: string,
  ): { id: string; timestamp: number; delivered: number; queued: number } {
    const id = newMessageId();
    const timestamp = this.now();
    let delivered = 0;
    let queued = 0;
    for (const phone of this.devices.followersOf(channelJid)) {
      const message = { id, channelJid, timestamp, text };
      const outcome = this.devices.deliver(phone, { type: 'channel_message', message }, null);
      if (outcome === 'delivered') delivered++;
      if (outcome === 'queued') queued++;
    }
    return { id, timestamp, delivered, queued };
  }

  followChannel(phoneNumber: string, channelJid: string): SimDeviceView {
    this.devices.require(phoneNumber);
    this.devices.follow(phoneNumber, channelJid);
    return this.devices.view(phoneNumber);
  }

  unfollowChannel(phoneNumber: string, channelJid: string): SimDeviceView {
    this.devices.require(phoneNumber);
    if (!this.devices.unfollow(phoneNumber, channelJid)) {
      throw new SimError('not_found', 'the device does not follow this channel', {
        jid: channelJid,
      });
    }
    return this.devices.view(phoneNumber);
  }

  /** Drops the live connection with `code`; the credentials stay valid. */
  disconnectDevice(
    phoneNumber: string,
    code: number,
  ): { phoneNumber: string; clientId: string; code: number } {
    const conn = this.devices.require(phoneNumber).conn;
    if (!conn) {
      throw new SimError('failed_precondition', 'the device has no live connection', {
        reason: 'not_connected',
      });
    }
    const clientId = conn.clientId;
    this.closeConn(conn, code, 'disconnected by the network');
    return { phoneNumber, clientId, code };
  }

  logoutDevice(phoneNumber: string): {
    phoneNumber: string;
    loggedOut: true;
    wasConnected: boolean;
  } {
    const device = this.devices.require(phoneNumber);
    const wasConnected = device.conn !== null;
    this.unlink(device, 'logged out from the phone');
    return { phoneNumber, loggedOut: true, wasConnected };
  }

  /** Any number may be banned, linked or not: a banned number can neither log in nor link. */
  banDevice(phoneNumber: string): { phoneNumber: string; banned: true; wasConnected: boolean } {
    this.devices.ban(phoneNumber);
    const conn = this.devices.get(phoneNumber)?.conn ?? null;
    if (conn) this.closeConn(conn, 403, 'banned');
    this.options.logger.info({ phoneNumber }, 'number banned');
    return { phoneNumber, banned: true, wasConnected: conn !== null };
  }

  unbanDevice(phoneNumber: string): { phoneNumber: string; banned: false } {
    this.devices.unban(phoneNumber);
    return { phoneNumber, banned: false };
  }

  /** The phone reads what linked devices sent it (every unread message, or only `ids`). */
  readOnPhone(phoneNumber: string, ids: readonly string[] | null): { read: number } {
    const wanted = ids ? new Set(ids) : null;
    let read = 0;
    for (const record of this.devices.messages.inbox(phoneNumber)) {
      if (record.status === 'read' || (wanted && !wanted.has(record.id))) continue;
      this.devices.markRead(record);
      read++;
    }
    return { read };
  }

  listConnections(): {
    items: SimLiveConnection[];
    pairing: PairingEntry[];
    evictions: SimEviction[];
  } {
    const items: SimLiveConnection[] = [];
    for (const d of this.devices.all()) {
      if (d.conn) {
        items.push({ phoneNumber: d.phoneNumber, clientId: d.conn.clientId, since: d.conn.since });
      }
    }
    const pairing: PairingEntry[] = [];
    for (const conn of this.conns) {
      if (conn.state === 'pairing') pairing.push(this.pairing.describe(conn));
    }
    return { items, pairing, evictions: [...this.evictions] };
  }

  listDevices(): SimDeviceView[] {
    return [...this.devices.all()].map((d) => this.devices.view(d.phoneNumber));
  }

  getDevice(phoneNumber: string): SimDeviceView {
    return this.devices.view(phoneNumber);
  }

  receivedMessages(phoneNumber: string): readonly SimMessageRecord[] {
    return this.devices.messages.inbox(phoneNumber);
  }

  presences(phoneNumber: string): SimPresenceRecord[] {
    return this.devices.messages.presences(phoneNumber);
  }

  getMessage(id: string): SimMessageRecord {
    const record = this.devices.messages.get(id);
    if (!record) throw new SimError('not_found', 'message not found', { id });
    return record;
  }

  stats(): { devices: number; connections: number; linked: number; pairing: number } {
    let linked = 0;
    for (const d of this.devices.all()) if (d.conn) linked++;
    return {
      devices: this.devices.size,
      connections: this.conns.size,
      linked,
      pairing: this.pairing.size,
    };
  }

  // ---- protocol --------------------------------------------------------------------------------

  private hello(conn: SimConnection, frame: HelloFrame): void {
    conn.clientId = frame.clientId;
    conn.since = this.now();
    if (frame.token === undefined) {
      conn.state = 'pairing';
      this.pairing.start(conn);
      return;
    }
    const device = this.devices.byToken(frame.token);
    if (!device) return this.closeConn(conn, 401, 'invalid credentials');
    if (this.devices.isBanned(device.phoneNumber)) return this.closeConn(conn, 403, 'banned');
    if (device.conn) this.evict(device, device.conn, conn);
    conn.state = 'linked';
    conn.phoneNumber = device.phoneNumber;
    const { phoneNumber, waJid, waLid } = device;
    conn.send({ type: 'open', identity: { phoneNumber, waJid, waLid } });
    this.devices.attach(device, conn);
  }

  private request(conn: SimConnection, frame: SimRequestFrame): Handled {
    if (frame.type === 'pairing_code.request') {
      if (conn.state !== 'pairing') {
        throw new RequestError('not_pairing', 'the connection is not pairing');
      }
      if (!PAIRING_PHONE.test(frame.phoneNumber)) {
        throw new RequestError(
          'bad_request',
          'phoneNumber must be 7-15 digits with country code, no +',
        );
      }
      if (this.devices.isBanned(frame.phoneNumber)) {
        throw new RequestError('forbidden', 'number banned');
      }
      return { data: this.pairing.requestCode(conn, frame.phoneNumber) };
    }
    const from = conn.phoneNumber;
    const device = from === null ? undefined : this.devices.get(from);
    if (conn.state !== 'linked' || from === null || !device) {
      throw new RequestError('not_open', 'the connection is not open');
    }
    switch (frame.type) {
      case 'message.send': {
        const to = this.resolveJid(frame.to);
        const record = this.devices.newRecord(from, to, frame.text, 'gateway');
        const data = { id: record.id, chatJid: jidForPhone(to), timestamp: record.timestamp };
        const toDevice = to !== from && this.devices.get(to) !== undefined;
        // A plain phone is always online, so delivery is immediate; another linked device gets
        // it now or on its next login.
        const after = toDevice
          ? () => void this.devices.deliverMessage(record)
          : () => this.devices.markDelivered(record);
        return { data, after };
      }
      case 'presence.send':
        this.devices.messages.recordPresence(
          from,
          this.resolveJid(frame.to),
          frame.presence,
          this.now(),
        );
        return { data: {} };
      case 'messages.read':
        for (const { id } of frame.messages) {
          const record = this.devices.messages.get(id);
          if (record && record.to === from) this.devices.markRead(record);
        }
        return { data: {} };
      case 'logout':
        return { data: {}, after: () => this.unlink(device, 'logged out') };
    }
  }

  private link(conn: SimConnection, phoneNumber: string): SimLinkResult {
    if (this.devices.isBanned(phoneNumber)) {
      throw new SimError('failed_precondition', 'the phone number is banned', { reason: 'banned' });
    }
    this.pairing.remove(conn);
    const previous = this.devices.get(phoneNumber);
    // One device per number: linking again replaces the old device, whose credentials die.
    if (previous) this.unlink(previous, 'device replaced by a new link');
    const { token, waJid, waLid } = this.devices.add(phoneNumber);
    conn.send({ type: 'paired', credentials: { token, phoneNumber, waJid, waLid } });
    this.closeConn(conn, 515, 'restart required');
    this.options.logger.info({ phoneNumber, clientId: conn.clientId }, 'device linked');
    return { phoneNumber, waJid, waLid, clientId: conn.clientId };
  }

  private unlink(device: SimDevice, reason: string): void {
    this.devices.remove(device);
    if (device.conn) this.closeConn(device.conn, 401, reason);
    this.options.logger.info({ phoneNumber: device.phoneNumber, reason }, 'device unlinked');
  }

  private evict(device: SimDevice, old: SimConnection, by: SimConnection): void {
    const eviction: SimEviction = {
      phoneNumber: device.phoneNumber,
      evictedClientId: old.clientId,
      byClientId: by.clientId,
      at: this.now(),
    };
    this.evictions.push(eviction);
    if (this.evictions.length > MAX_EVICTIONS) this.evictions.shift();
    this.closeConn(old, 440, 'connection replaced');
    this.options.logger.warn(eviction, 'connection replaced: two clients held the same device');
  }

  private resolveJid(jid: string): string {
    const phone = this.devices.resolveJid(jid);
    if (phone !== null) return phone;
    if (jid.endsWith('@lid')) throw new RequestError('not_found', `unknown lid ${jid}`);
    throw new RequestError(
      'unsupported',
      `the sim delivers to <digits>@s.whatsapp.net or a linked @lid, not ${jid}`,
    );
  }

  private detach(conn: SimConnection): void {
    this.conns.delete(conn);
    if (conn.state === 'pairing') this.pairing.remove(conn);
    if (conn.phoneNumber !== null) {
      const device = this.devices.get(conn.phoneNumber);
      if (device?.conn === conn) device.conn = null;
    }
  }

  private closeConn(conn: SimConnection, waCode: number, reason: string): void {
    this.detach(conn);
    conn.closeWith(waCode, reason);
  }

  private protocolError(conn: SimConnection, reason: string): void {
    this.detach(conn);
    conn.closeRaw(WA_SIM_PROTOCOL_ERROR_CLOSE_CODE, reason);
  }
}
