import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startWaSim, type WaSimServer } from '@wagw/wa-sim';
import type {
  WaAuthStore,
  WaChannelMessage,
  WaConnection,
  WaConnectionListener,
  WaIdentity,
  WaInboundMessage,
  WaReceipt,
} from '../whatsapp-connection.port.js';
import { SimulatedConnectionFactory } from './simulated-connection.factory.js';
import { SimulatedRequestError } from './simulated-request.error.js';

/** An in-memory WaAuthStore; `failWrites` plays a store that lost its lease. */
class MemoryAuthStore implements WaAuthStore {
  creds: string | null = null;
  clears = 0;
  failWrites = false;

  readCreds(): Promise<string | null> {
    return Promise.resolve(this.creds);
  }
  writeCreds(creds: string): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error('lease lost'));
    this.creds = creds;
    return Promise.resolve();
  }
  readKeys(): Promise<Map<string, string>> {
    return Promise.resolve(new Map());
  }
  async writeKeys(): Promise<void> {}
  clear(): Promise<void> {
    this.clears++;
    this.creds = null;
    return Promise.resolve();
  }
}

type Event =
  | { type: 'qr'; qr: string; expiresAt: number }
  | { type: 'open'; identity: WaIdentity }
  | { type: 'close'; code: number; message: string }
  | { type: 'message'; message: WaInboundMessage }
  | { type: 'receipt'; receipt: WaReceipt }
  | { type: 'channel'; message: WaChannelMessage };

/** Records every listener callback in order and lets a test await one. */
class Recorder implements WaConnectionListener {
  readonly events: Event[] = [];
  /** Inbound messages are taken once this resolves (the event made durable); a rejection refuses them. */
  take: () => Promise<void> = () => Promise.resolve();

  onQr(qr: { qr: string; expiresAt: number }): void {
    this.events.push({ type: 'qr', ...qr });
  }
  onOpen(identity: WaIdentity): void {
    this.events.push({ type: 'open', identity });
  }
  onClose(reason: { code: number; message: string }): void {
    this.events.push({ type: 'close', ...reason });
  }
  onMessage(message: WaInboundMessage): Promise<void> {
    this.events.push({ type: 'message', message });
    return this.take();
  }
  onReceipt(receipt: WaReceipt): Promise<void> {
    this.events.push({ type: 'receipt', receipt });
    return Promise.resolve();
  }
  onChannelMessage(message: WaChannelMessage): Promise<void> {
    this.events.push({ type: 'channel', message });
    return Promise.resolve();
  }

  async next<T extends Event['type']>(
    type: T,
    where: (e: Extract<Event, { type: T }>) => boolean = () => true,
  ): Promise<Extract<Event, { type: T }>> {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const found = this.events.find(
        (e): e is Extract<Event, { type: T }> =>
          e.type === type && where(e as Extract<Event, { type: T }>),
      );
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no ${type} event; got ${JSON.stringify(this.events)}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  count(type: Event['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }
}

async function api(
  sim: WaSimServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`${sim.controlUrl}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

let seq = 0;
function newPhone(): string {
  seq++;
  return `62822${String(process.pid % 1000).padStart(3, '0')}${String(seq).padStart(4, '0')}`;
}

describe('SimulatedConnectionFactory against the real wa-sim', () => {
  let sim: WaSimServer;
  let factory: SimulatedConnectionFactory;

  beforeAll(async () => {
    sim = await startWaSim({ port: 0, qrTtlMs: 5_000, pairingCodeTtlMs: 5_000 });
    factory = new SimulatedConnectionFactory(sim.url, { requestTimeoutMs: 2_000 });
  });

  afterAll(async () => {
    await sim.close();
  });

  function create(
    auth: MemoryAuthStore,
    clientId = 'gw-test',
  ): { conn: WaConnection; events: Recorder } {
    const events = new Recorder();
    const conn = factory.create({ sessionId: 'sess-1', clientId, auth, listener: events });
    return { conn, events };
  }

  /** Pairs a new device through the QR flow; returns the store holding its credentials. */
  async function paired(phone: string): Promise<MemoryAuthStore> {
    const auth = new MemoryAuthStore();
    const { conn, events } = create(auth);
    await conn.connect();
    const { qr } = await events.next('qr');
    expect((await api(sim, 'POST', '/sim/v1/qr:scan', { qr, phoneNumber: phone })).status).toBe(
      200,
    );
    await events.next('close');
    return auth;
  }

  async function opened(
    auth: MemoryAuthStore,
    clientId = 'gw-test',
  ): Promise<{ conn: WaConnection; events: Recorder }> {
    const c = create(auth, clientId);
    await c.conn.connect();
    await c.events.next('open');
    return c;
  }

  it('is the "simulated" driver', () => {
    expect(factory.driver).toBe('simulated');
  });

  it('pairs by QR: onQr, creds stored, onClose 515 without reconnecting; the next connection opens', async () => {
    const phone = newPhone();
    const auth = new MemoryAuthStore();
    const { conn, events } = create(auth, 'gw-qr');
    await conn.connect();
    const qr = await events.next('qr');
    expect(qr.qr).toMatch(/^SIM-QR:/);
    expect(qr.expiresAt).toBeGreaterThan(Date.now());

    await api(sim, 'POST', '/sim/v1/qr:scan', { qr: qr.qr, phoneNumber: phone });
    const close = await events.next('close');
    expect(close).toEqual({ type: 'close', code: 515, message: 'restart required' });
    expect(JSON.parse(auth.creds ?? '{}')).toMatchObject({
      phoneNumber: phone,
      token: expect.stringMatching(/^simtok_/),
    });

    // The adapter does not reconnect by itself: nothing holds the device.
    await new Promise((r) => setTimeout(r, 50));
    expect(events.count('open')).toBe(0);
    const conns = await api(sim, 'GET', '/sim/v1/connections');
    expect(
      (conns.body['items'] as { phoneNumber: string }[]).some((i) => i.phoneNumber === phone),
    ).toBe(false);

    const next = await opened(auth, 'gw-qr');
    const open = await next.events.next('open');
    expect(open.identity).toEqual({
      phoneNumber: phone,
      waJid: `${phone}@s.whatsapp.net`,
      waLid: expect.stringMatching(/^\d{15}@lid$/),
    });
    expect(next.events.count('qr')).toBe(0);
    await next.conn.close();
  });

  it('pairs by code: requestPairingCode, the phone enters it, 515, then open', async () => {
    const phone = newPhone();
    const auth = new MemoryAuthStore();
    const { conn, events } = create(auth);
    await conn.connect();
    await events.next('qr');
    const { code, expiresAt } = await conn.requestPairingCode(phone);
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(expiresAt).toBeGreaterThan(Date.now());
    await api(sim, 'POST', '/sim/v1/pairing-codes:enter', { code, phoneNumber: phone });
    expect((await events.next('close')).code).toBe(515);

    const next = await opened(auth);
    expect((await next.events.next('open')).identity.phoneNumber).toBe(phone);
    await expect(next.conn.requestPairingCode(phone)).rejects.toBeInstanceOf(SimulatedRequestError);
    await next.conn.close();
  });

  it('sends text, fires delivered then read receipts, and the phone sees the message', async () => {
    const phone = newPhone();
    const to = newPhone();
    const { conn, events } = await opened(await paired(phone));
    const sent = await conn.sendText(`+${to}`, 'hello phone');
    expect(sent).toEqual({
      id: expect.stringMatching(/^3EB0/),
      chatJid: `${to}@s.whatsapp.net`,
      timestamp: expect.any(Number),
    });

    const delivered = await events.next('receipt');
    expect(delivered.receipt).toEqual({
      messageId: sent.id,
      chatJid: sent.chatJid,
      status: 'delivered',
      timestamp: expect.any(Number),
    });
    const inbox = await api(sim, 'GET', `/sim/v1/devices/${to}/messages`);
    expect(inbox.body['items']).toEqual([
      expect.objectContaining({ id: sent.id, from: phone, text: 'hello phone' }),
    ]);

    await api(sim, 'POST', `/sim/v1/devices/${to}/messages:read`, { ids: [sent.id] });
    expect(
      (await events.next('receipt', (e) => e.receipt.status === 'read')).receipt.messageId,
    ).toBe(sent.id);
    await conn.close();
  });

  it('receives inbound messages and marks them read on the network', async () => {
    const phone = newPhone();
    const { conn, events } = await opened(await paired(phone));
    const injected = await api(sim, 'POST', '/sim/v1/messages', {
      from: '6591234567',
      to: phone,
      text: 'hi gateway',
    });
    const { message } = await events.next('message');
    expect(message).toMatchObject({
      id: injected.body['id'],
      chatJid: '6591234567@s.whatsapp.net',
      fromJid: '6591234567@s.whatsapp.net',
      fromMe: false,
      text: 'hi gateway',
    });
    expect(JSON.parse(JSON.stringify(message.raw))).toMatchObject({ id: message.id });

    await conn.markRead([{ chatJid: message.chatJid, id: message.id }]);
    expect((await api(sim, 'GET', `/sim/v1/messages/${message.id}`)).body).toMatchObject({
      status: 'read',
    });
    await conn.close();
  });

  it('hands inbound messages over one at a time, each once taken; one not taken closes the connection (503)', async () => {
    const phone = newPhone();
    const { conn, events } = await opened(await paired(phone));
    let release!: () => void;
    events.take = () => new Promise<void>((r) => (release = r));
    for (const text of ['one', 'two']) {
      await api(sim, 'POST', '/sim/v1/messages', { from: '6591234567', to: phone, text });
    }
    await events.next('message');
    await new Promise((r) => setTimeout(r, 100));
    // The second waits until the first is taken.
    expect(events.count('message')).toBe(1);
    events.take = () => Promise.reject(new Error('the stream is down'));
    release();
    await events.next('message', (e) => e.message.text === 'two');
    const closed = await events.next('close');
    expect(closed.code).toBe(503);
    await conn.close();
  });

  it('sends presence and gets channel posts of followed channels', async () => {
    const phone = newPhone();
    const to = newPhone();
    const { conn, events } = await opened(await paired(phone));
    await conn.sendPresence(to, 'composing');
    expect((await api(sim, 'GET', `/sim/v1/devices/${to}/presences`)).body['items']).toEqual([
      { from: phone, presence: 'composing', timestamp: expect.any(Number) },
    ]);

    const channel = '120363000000000777@newsletter';
    await api(sim, 'POST', `/sim/v1/devices/${phone}/channels`, { jid: channel });
    const post = await api(sim, 'POST', `/sim/v1/channels/${channel}/posts`, { text: 'bulletin' });
    const got = await events.next('channel');
    expect(got.message).toEqual({
      id: post.body['id'],
      channelJid: channel,
      timestamp: expect.any(Number),
      text: 'bulletin',
      type: 'text',
      raw: expect.objectContaining({ id: post.body['id'] }),
    });
    await conn.close();
  });

  it('close(): onClose 499 once, idempotent, keeps the link and the creds', async () => {
    const phone = newPhone();
    const auth = await paired(phone);
    const { conn, events } = await opened(auth);
    await conn.close();
    await conn.close();
    expect(events.events.filter((e) => e.type === 'close')).toEqual([
      { type: 'close', code: 499, message: 'closed by client' },
    ]);
    expect(auth.creds).not.toBeNull();
    expect((await api(sim, 'GET', `/sim/v1/devices/${phone}`)).body).toMatchObject({
      connected: false,
    });
    await expect(conn.sendText(phone, 'x')).rejects.toMatchObject({ code: 'not_open' });
  });

  it('logout(): the network unlinks, onClose 401, the auth state is cleared', async () => {
    const phone = newPhone();
    const auth = await paired(phone);
    const { conn, events } = await opened(auth);
    await conn.logout();
    expect(events.events.filter((e) => e.type === 'close')).toEqual([
      { type: 'close', code: 401, message: 'logged out' },
    ]);
    expect(auth.clears).toBe(1);
    expect(auth.creds).toBeNull();
    expect((await api(sim, 'GET', `/sim/v1/devices/${phone}`)).status).toBe(404);
  });

  it('logout from the phone: onClose 401; the old creds are then refused with 401', async () => {
    const phone = newPhone();
    const auth = await paired(phone);
    const { events } = await opened(auth);
    await api(sim, 'POST', `/sim/v1/devices/${phone}:logout`);
    expect((await events.next('close')).code).toBe(401);
    // Wiping is the caller's policy on 401, not the adapter's.
    expect(auth.clears).toBe(0);

    const retry = create(auth);
    await retry.conn.connect();
    expect(await retry.events.next('close')).toMatchObject({ code: 401 });
    expect(retry.events.count('open')).toBe(0);
  });

  it('a second worker on the same device evicts the first: onClose 440, recorded by the network', async () => {
    const phone = newPhone();
    const auth = await paired(phone);
    const copy = new MemoryAuthStore();
    copy.creds = auth.creds;
    const first = await opened(auth, 'gw-sg-1');
    const second = await opened(copy, 'gw-sg-2');
    expect(await first.events.next('close')).toEqual({
      type: 'close',
      code: 440,
      message: 'connection replaced',
    });
    const conns = await api(sim, 'GET', '/sim/v1/connections');
    expect(conns.body['evictions']).toContainEqual({
      phoneNumber: phone,
      evictedClientId: 'gw-sg-1',
      byClientId: 'gw-sg-2',
      at: expect.any(Number),
    });
    expect(second.events.count('close')).toBe(0);
    await second.conn.close();
  });

  it('fails closed with 498 (lease lost) when the credentials cannot be stored', async () => {
    const auth = new MemoryAuthStore();
    auth.failWrites = true;
    const { conn, events } = create(auth);
    await conn.connect();
    const { qr } = await events.next('qr');
    await api(sim, 'POST', '/sim/v1/qr:scan', { qr, phoneNumber: newPhone() });
    expect(await events.next('close')).toEqual({
      type: 'close',
      code: 498,
      message: 'could not store credentials (lease lost)',
    });
    expect(events.count('close')).toBe(1);
  });

  it('reports network codes: ban 403, disconnect 428', async () => {
    const banned = newPhone();
    const a = await opened(await paired(banned));
    await api(sim, 'POST', `/sim/v1/devices/${banned}:ban`);
    expect((await a.events.next('close')).code).toBe(403);

    const dropped = newPhone();
    const b = await opened(await paired(dropped));
    await api(sim, 'POST', `/sim/v1/devices/${dropped}:disconnect`, { code: 428 });
    expect(await b.events.next('close')).toEqual({
      type: 'close',
      code: 428,
      message: 'disconnected by the network',
    });
  });

  it('reports an unreachable network through onClose 428, unreadable creds as 401, and is single-use', async () => {
    const dead = new SimulatedConnectionFactory('ws://127.0.0.1:1/ws');
    const events = new Recorder();
    const conn = dead.create({
      sessionId: 's',
      clientId: 'gw',
      auth: new MemoryAuthStore(),
      listener: events,
    });
    await conn.connect();
    expect((await events.next('close')).code).toBe(428);
    await expect(conn.connect()).rejects.toThrow(/single-use/);

    const corrupt = new MemoryAuthStore();
    corrupt.creds = 'not json';
    const c = create(corrupt);
    await c.conn.connect();
    expect(await c.events.next('close')).toMatchObject({ code: 401 });
  });
});
