import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import {
  WA_SIM_PROTOCOL,
  type SimClientFrame,
  type SimCredentials,
  type SimServerFrame,
} from './protocol.js';
import { PAIRING_CODE_ALPHABET } from './sim-ids.util.js';
import { startWaSim, type WaSimServer } from './wa-sim.server.js';

type FrameOf<T extends SimServerFrame['type']> = Extract<SimServerFrame, { type: T }>;

/** A raw protocol client: records every frame and the close, and lets a test await them. */
class RawClient {
  readonly frames: SimServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly opened: Promise<void>;
  private waiters: (() => void)[] = [];
  private reqId = 1;

  constructor(
    url: string,
    readonly ws = new WebSocket(url),
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    ws.on('message', (data) => {
      this.frames.push(JSON.parse((data as Buffer).toString('utf8')) as SimServerFrame);
      this.wake();
    });
  }

  static async hello(sim: WaSimServer, clientId: string, token?: string): Promise<RawClient> {
    const client = new RawClient(sim.url);
    await client.opened;
    client.sendRaw({
      type: 'hello',
      protocol: WA_SIM_PROTOCOL,
      clientId,
      ...(token ? { token } : {}),
    });
    return client;
  }

  sendRaw(frame: SimClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends a request and resolves with its `result` frame. */
  async request(frame: Record<string, unknown>): Promise<FrameOf<'result'>> {
    const reqId = this.reqId++;
    this.sendRaw({ ...frame, reqId });
    return this.next('result', (f) => f.reqId === reqId);
  }

  /** The first frame of `type` (matching `where`) received so far or later. */
  async next<T extends SimServerFrame['type']>(
    type: T,
    where: (frame: FrameOf<T>) => boolean = () => true,
    timeoutMs = 2_000,
  ): Promise<FrameOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(
        (f): f is FrameOf<T> => f.type === type && where(f as FrameOf<T>),
      );
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no ${type} frame; got ${JSON.stringify(this.frames)}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  count(type: SimServerFrame['type']): number {
    return this.frames.filter((f) => f.type === type).length;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
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

let phoneSeq = 0;
function newPhone(): string {
  phoneSeq++;
  return `62811${String(process.pid % 1000).padStart(3, '0')}${String(phoneSeq).padStart(4, '0')}`;
}

/** Pairs a new device through QR and returns its credentials (the pairing socket is closed). */
async function linkDevice(
  sim: WaSimServer,
  phoneNumber: string,
  clientId = 'gw-pair',
): Promise<SimCredentials> {
  const client = await RawClient.hello(sim, clientId);
  const qr = await client.next('qr');
  const scan = await api(sim, 'POST', '/sim/v1/qr:scan', { qr: qr.qr, phoneNumber });
  expect(scan.status).toBe(200);
  const paired = await client.next('paired');
  await client.closed;
  return paired.credentials;
}

async function login(
  sim: WaSimServer,
  creds: SimCredentials,
  clientId: string,
): Promise<RawClient> {
  const client = await RawClient.hello(sim, clientId, creds.token);
  await client.next('open');
  return client;
}

describe('wa-sim network over real sockets', () => {
  let sim: WaSimServer;

  beforeAll(async () => {
    sim = await startWaSim({ port: 0, qrTtlMs: 150, qrMaxRefs: 3, pairingCodeTtlMs: 300 });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('listens on an ephemeral port and answers healthz', async () => {
    expect(sim.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    const res = await api(sim, 'GET', '/sim/v1/healthz');
    expect(res.status).toBe(200);
    expect(res.body['status']).toBe('ok');
  });

  describe('QR pairing', () => {
    it('rotates QR refs, expires the old ones, and gives up with 408 after qrMaxRefs', async () => {
      const started = Date.now();
      const client = await RawClient.hello(sim, 'gw-qr');
      const first = await client.next('qr');
      expect(first.qr).toBe(`SIM-QR:${first.ref}`);
      expect(first.expiresAt).toBeGreaterThanOrEqual(started + 150);
      expect(first.expiresAt).toBeLessThanOrEqual(Date.now() + 150);

      const second = await client.next('qr', (f) => f.ref !== first.ref);
      expect(second.expiresAt).toBeGreaterThan(first.expiresAt);
      const stale = await api(sim, 'POST', '/sim/v1/qr:scan', {
        qr: first.qr,
        phoneNumber: newPhone(),
      });
      expect(stale.status).toBe(409);
      expect(stale.body).toEqual({
        error: {
          code: 'failed_precondition',
          message: 'QR code expired',
          details: { reason: 'expired' },
        },
      });

      const closed = await client.closed;
      expect(closed.code).toBe(4408);
      expect(client.count('qr')).toBe(3);
      expect(client.frames.at(-1)).toEqual({
        type: 'close',
        code: 408,
        reason: 'QR refs attempts ended',
      });
    });

    it('links on scan: credentials, then 515, then login opens with the identity', async () => {
      const phone = newPhone();
      const pairing = await RawClient.hello(sim, 'gw-a');
      const qr = await pairing.next('qr');
      const listed = await api(sim, 'GET', '/sim/v1/connections');
      expect(listed.body['pairing']).toEqual(
        expect.arrayContaining([expect.objectContaining({ clientId: 'gw-a', mode: 'qr' })]),
      );

      const scan = await api(sim, 'POST', '/sim/v1/qr:scan', { qr: qr.qr, phoneNumber: phone });
      expect(scan.status).toBe(200);
      expect(scan.body).toMatchObject({
        phoneNumber: phone,
        waJid: `${phone}@s.whatsapp.net`,
        clientId: 'gw-a',
      });
      const paired = await pairing.next('paired');
      expect(paired.credentials.token).toMatch(/^simtok_/);
      expect(paired.credentials.waLid).toMatch(/^[1-9]\d{14}@lid$/);
      expect(await pairing.closed).toEqual({ code: 4515, reason: 'restart required' });
      expect(pairing.frames.at(-1)).toEqual({
        type: 'close',
        code: 515,
        reason: 'restart required',
      });

      const again = await api(sim, 'POST', '/sim/v1/qr:scan', { qr: qr.qr, phoneNumber: phone });
      expect(again.status).toBe(409);

      const client = await RawClient.hello(sim, 'gw-a', paired.credentials.token);
      const open = await client.next('open');
      expect(open.identity).toEqual({
        phoneNumber: phone,
        waJid: `${phone}@s.whatsapp.net`,
        waLid: paired.credentials.waLid,
      });
      const conns = await api(sim, 'GET', '/sim/v1/connections');
      expect(conns.body['items']).toContainEqual({
        phoneNumber: phone,
        clientId: 'gw-a',
        since: expect.any(Number),
      });
      client.close();
      await client.closed;
    });

    it('keeps the LID of a number stable across relinks, and a relink kills the old credentials', async () => {
      const phone = newPhone();
      const first = await linkDevice(sim, phone);
      const live = await login(sim, first, 'gw-old');
      const second = await linkDevice(sim, phone);
      expect(second.waLid).toBe(first.waLid);
      expect(second.token).not.toBe(first.token);
      expect((await live.closed).code).toBe(4401);
      const stale = await RawClient.hello(sim, 'gw-old', first.token);
      expect((await stale.closed).code).toBe(4401);
    });

    it('answers 404 for an unknown QR ref', async () => {
      const res = await api(sim, 'POST', '/sim/v1/qr:scan', {
        qr: 'SIM-QR:nope',
        phoneNumber: newPhone(),
      });
      expect(res.status).toBe(404);
      expect((res.body['error'] as Record<string, unknown>)['code']).toBe('not_found');
    });
  });

  describe('pairing codes', () => {
    it('issues ABCD-EFGH codes that only the requested number can enter', async () => {
      const phone = newPhone();
      const client = await RawClient.hello(sim, 'gw-code');
      await client.next('qr');
      const result = await client.request({ type: 'pairing_code.request', phoneNumber: phone });
      expect(result.ok).toBe(true);
      const data = (result as Extract<typeof result, { ok: true }>).data as {
        code: string;
        expiresAt: number;
      };
      const charset = `[${PAIRING_CODE_ALPHABET}]`;
      expect(data.code).toMatch(new RegExp(`^${charset}{4}-${charset}{4}$`));
      expect(data.expiresAt).toBeGreaterThan(Date.now());

      const wrong = await api(sim, 'POST', '/sim/v1/pairing-codes:enter', {
        code: data.code,
        phoneNumber: newPhone(),
      });
      expect(wrong.status).toBe(409);
      expect(wrong.body['error']).toMatchObject({ details: { reason: 'phone_mismatch' } });

      // Typed on a phone: lower case, no dash.
      const typed = data.code.replace('-', '').toLowerCase();
      const ok = await api(sim, 'POST', '/sim/v1/pairing-codes:enter', {
        code: typed,
        phoneNumber: phone,
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ phoneNumber: phone, clientId: 'gw-code' });
      const paired = await client.next('paired');
      expect(paired.credentials.phoneNumber).toBe(phone);
      expect((await client.closed).code).toBe(4515);
      await login(sim, paired.credentials, 'gw-code').then((c) => c.close());
    });

    it('expires an unused code: the connection closes with 408 and the code is refused', async () => {
      const phone = newPhone();
      const client = await RawClient.hello(sim, 'gw-code');
      await client.next('qr');
      const result = await client.request({ type: 'pairing_code.request', phoneNumber: phone });
      const { code } = (result as Extract<typeof result, { ok: true }>).data as { code: string };
      const closed = await client.closed;
      expect(closed.code).toBe(4408);
      // QR rotation stopped once the code flow began.
      expect(client.count('qr')).toBe(1);
      const late = await api(sim, 'POST', '/sim/v1/pairing-codes:enter', {
        code,
        phoneNumber: phone,
      });
      expect(late.status).toBe(409);
      expect(late.body['error']).toMatchObject({ message: 'pairing code expired' });
    });

    it('refuses a pairing-code request with a bad number, and once logged in', async () => {
      const client = await RawClient.hello(sim, 'gw-code');
      await client.next('qr');
      const bad = await client.request({ type: 'pairing_code.request', phoneNumber: '+62 811' });
      expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      client.close();

      const creds = await linkDevice(sim, newPhone());
      const open = await login(sim, creds, 'gw-code');
      const notPairing = await open.request({
        type: 'pairing_code.request',
        phoneNumber: newPhone(),
      });
      expect(notPairing).toMatchObject({ ok: false, error: { code: 'not_pairing' } });
      open.close();
    });
  });

  describe('one live connection per device', () => {
    it('evicts the first connection with 440 and records who replaced whom', async () => {
      const phone = newPhone();
      const creds = await linkDevice(sim, phone);
      const first = await login(sim, creds, 'gw-1');
      const second = await login(sim, creds, 'gw-2');
      expect(await first.closed).toEqual({ code: 4440, reason: 'connection replaced' });
      expect(first.frames.at(-1)).toEqual({
        type: 'close',
        code: 440,
        reason: 'connection replaced',
      });

      const conns = await api(sim, 'GET', '/sim/v1/connections');
      const items = conns.body['items'] as { phoneNumber: string; clientId: string }[];
      expect(items.filter((i) => i.phoneNumber === phone)).toEqual([
        { phoneNumber: phone, clientId: 'gw-2', since: expect.any(Number) },
      ]);
      expect(conns.body['evictions']).toContainEqual({
        phoneNumber: phone,
        evictedClientId: 'gw-1',
        byClientId: 'gw-2',
        at: expect.any(Number),
      });
      second.close();
      await second.closed;
      const after = await api(sim, 'GET', '/sim/v1/connections');
      expect(
        (after.body['items'] as { phoneNumber: string }[]).some((i) => i.phoneNumber === phone),
      ).toBe(false);
    });
  });

  describe('messages and receipts', () => {
    it('queues messages for an offline device and delivers them on its next login', async () => {
      const phone = newPhone();
      const creds = await linkDevice(sim, phone);
      const sent = await api(sim, 'POST', '/sim/v1/messages', {
        from: '6599990000',
        to: phone,
        text: 'while you slept',
      });
      expect(sent.status).toBe(201);
      expect(sent.body).toMatchObject({ delivery: 'queued' });
      const id = sent.body['id'] as string;
      expect((await api(sim, 'GET', `/sim/v1/messages/${id}`)).body).toMatchObject({
        status: 'sent',
      });
      expect((await api(sim, 'GET', `/sim/v1/devices/${phone}`)).body).toMatchObject({
        queued: 1,
        connected: false,
      });

      const client = await login(sim, creds, 'gw-q');
      const msg = await client.next('message');
      expect(msg.message).toEqual({
        id,
        chatJid: '6599990000@s.whatsapp.net',
        fromJid: '6599990000@s.whatsapp.net',
        timestamp: expect.any(Number),
        text: 'while you slept',
      });
      // `open` comes before the backlog.
      expect(client.frames.findIndex((f) => f.type === 'open')).toBeLessThan(
        client.frames.indexOf(msg),
      );
      expect((await api(sim, 'GET', `/sim/v1/messages/${id}`)).body).toMatchObject({
        status: 'delivered',
      });

      const live = await api(sim, 'POST', '/sim/v1/messages', {
        from: '6599990000',
        to: phone,
        text: 'now',
      });
      expect(live.body).toMatchObject({ delivery: 'delivered' });
      expect((await client.next('message', (f) => f.message.text === 'now')).message.id).toBe(
        live.body['id'],
      );
      client.close();
    });

    it('records what a phone received, with delivered then read receipts back to the sender', async () => {
      const phone = newPhone();
      const recipient = newPhone();
      const client = await login(sim, await linkDevice(sim, phone), 'gw-s');
      const result = await client.request({
        type: 'message.send',
        to: `${recipient}@s.whatsapp.net`,
        text: 'hello',
      });
      expect(result.ok).toBe(true);
      const data = (result as Extract<typeof result, { ok: true }>).data as {
        id: string;
        chatJid: string;
      };
      expect(data.chatJid).toBe(`${recipient}@s.whatsapp.net`);

      const delivered = await client.next('receipt', (f) => f.receipt.status === 'delivered');
      expect(delivered.receipt).toMatchObject({
        messageId: data.id,
        chatJid: `${recipient}@s.whatsapp.net`,
      });
      // The ack comes before the receipt.
      expect(client.frames.findIndex((f) => f.type === 'result')).toBeLessThan(
        client.frames.indexOf(delivered),
      );

      const inbox = await api(sim, 'GET', `/sim/v1/devices/${recipient}/messages`);
      expect(inbox.body['items']).toEqual([
        expect.objectContaining({
          id: data.id,
          from: phone,
          to: recipient,
          text: 'hello',
          status: 'delivered',
        }),
      ]);

      const read = await api(sim, 'POST', `/sim/v1/devices/${recipient}/messages:read`, {});
      expect(read.body).toEqual({ read: 1 });
      const readReceipt = await client.next('receipt', (f) => f.receipt.status === 'read');
      expect(readReceipt.receipt.messageId).toBe(data.id);
      expect(
        (await api(sim, 'GET', `/sim/v1/devices/${recipient}/messages`)).body['items'],
      ).toEqual([
        expect.objectContaining({ id: data.id, status: 'read', readAt: expect.any(Number) }),
      ]);
      // Reading again reads nothing new.
      expect((await api(sim, 'POST', `/sim/v1/devices/${recipient}/messages:read`)).body).toEqual({
        read: 0,
      });
      client.close();
    });

    it('carries device-to-device messages, queuing for the offline one, with receipts on delivery and read', async () => {
      const a = newPhone();
      const b = newPhone();
      const credsB = await linkDevice(sim, b);
      const clientA = await login(sim, await linkDevice(sim, a), 'gw-a');
      const sent = await clientA.request({
        type: 'message.send',
        to: `${b}@s.whatsapp.net`,
        text: 'hi b',
      });
      const { id } = (sent as Extract<typeof sent, { ok: true }>).data as { id: string };
      await new Promise((r) => setTimeout(r, 50));
      expect(clientA.count('receipt')).toBe(0); // b is offline: not delivered yet

      const clientB = await login(sim, credsB, 'gw-b');
      const inbound = await clientB.next('message');
      expect(inbound.message).toMatchObject({ id, fromJid: `${a}@s.whatsapp.net`, text: 'hi b' });
      await clientA.next(
        'receipt',
        (f) => f.receipt.status === 'delivered' && f.receipt.messageId === id,
      );

      await clientB.request({
        type: 'messages.read',
        messages: [{ chatJid: `${a}@s.whatsapp.net`, id }],
      });
      const read = await clientA.next('receipt', (f) => f.receipt.status === 'read');
      expect(read.receipt).toMatchObject({ messageId: id, chatJid: `${b}@s.whatsapp.net` });
      clientA.close();
      clientB.close();
    });

    it('records presence and refuses sends before login or to unsupported JIDs', async () => {
      const phone = newPhone();
      const to = newPhone();
      const client = await login(sim, await linkDevice(sim, phone), 'gw-p');
      const presence = await client.request({
        type: 'presence.send',
        to: `${to}@s.whatsapp.net`,
        presence: 'composing',
      });
      expect(presence.ok).toBe(true);
      expect((await api(sim, 'GET', `/sim/v1/devices/${to}/presences`)).body['items']).toEqual([
        { from: phone, presence: 'composing', timestamp: expect.any(Number) },
      ]);
      const group = await client.request({ type: 'message.send', to: '1203630@g.us', text: 'x' });
      expect(group).toMatchObject({ ok: false, error: { code: 'unsupported' } });
      client.close();

      const pairing = await RawClient.hello(sim, 'gw-p');
      await pairing.next('qr');
      const early = await pairing.request({
        type: 'message.send',
        to: `${to}@s.whatsapp.net`,
        text: 'x',
      });
      expect(early).toMatchObject({ ok: false, error: { code: 'not_open' } });
      pairing.close();
    });
  });

  describe('network-side events', () => {
    it('logout from the phone closes with 401 and the token is refused afterwards', async () => {
      const phone = newPhone();
      const creds = await linkDevice(sim, phone);
      const client = await login(sim, creds, 'gw-l');
      const res = await api(sim, 'POST', `/sim/v1/devices/${phone}:logout`);
      expect(res.body).toEqual({ phoneNumber: phone, loggedOut: true, wasConnected: true });
      expect((await client.closed).code).toBe(4401);
      const again = await RawClient.hello(sim, 'gw-l', creds.token);
      expect(await again.closed).toEqual({ code: 4401, reason: 'invalid credentials' });
      expect((await api(sim, 'GET', `/sim/v1/devices/${phone}`)).status).toBe(404);
    });

    it('logout requested by the client: ack, then 401, and the token is dead', async () => {
      const creds = await linkDevice(sim, newPhone());
      const client = await login(sim, creds, 'gw-l');
      const ack = await client.request({ type: 'logout' });
      expect(ack.ok).toBe(true);
      expect((await client.closed).code).toBe(4401);
      expect((await (await RawClient.hello(sim, 'gw-l', creds.token)).closed).code).toBe(4401);
    });

    it('ban closes with 403, refuses later logins and links with 403/409, unban restores', async () => {
      const phone = newPhone();
      const creds = await linkDevice(sim, phone);
      const client = await login(sim, creds, 'gw-b');
      const res = await api(sim, 'POST', `/sim/v1/devices/${phone}:ban`);
      expect(res.body).toEqual({ phoneNumber: phone, banned: true, wasConnected: true });
      expect((await client.closed).code).toBe(4403);
      expect((await (await RawClient.hello(sim, 'gw-b', creds.token)).closed).code).toBe(4403);

      const pairing = await RawClient.hello(sim, 'gw-b');
      const qr = await pairing.next('qr');
      const scan = await api(sim, 'POST', '/sim/v1/qr:scan', { qr: qr.qr, phoneNumber: phone });
      expect(scan.status).toBe(409);
      expect(scan.body['error']).toMatchObject({ details: { reason: 'banned' } });
      pairing.close();

      await api(sim, 'POST', `/sim/v1/devices/${phone}:unban`);
      (await login(sim, creds, 'gw-b')).close();
    });

    it('disconnect closes with the given code and keeps the credentials valid', async () => {
      const phone = newPhone();
      const creds = await linkDevice(sim, phone);
      const client = await login(sim, creds, 'gw-d');
      const res = await api(sim, 'POST', `/sim/v1/devices/${phone}:disconnect`, { code: 503 });
      expect(res.body).toEqual({ phoneNumber: phone, clientId: 'gw-d', code: 503 });
      expect((await client.closed).code).toBe(4503);

      const notConnected = await api(sim, 'POST', `/sim/v1/devices/${phone}:disconnect`, {
        code: 428,
      });
      expect(notConnected.status).toBe(409);

      const back = await login(sim, creds, 'gw-d');
      const byDefault = await api(sim, 'POST', `/sim/v1/devices/${phone}:disconnect`);
      expect(byDefault.body).toMatchObject({ code: 428 });
      expect((await back.closed).code).toBe(4428);
    });

    it('posts channel messages to following devices only, queuing for offline followers', async () => {
      const channel = '120363000000000001@newsletter';
      const live = newPhone();
      const offline = newPhone();
      const bystander = newPhone();
      const liveClient = await login(sim, await linkDevice(sim, live), 'gw-c');
      const offlineCreds = await linkDevice(sim, offline);
      const bystanderClient = await login(sim, await linkDevice(sim, bystander), 'gw-c');
      for (const phone of [live, offline]) {
        const follow = await api(sim, 'POST', `/sim/v1/devices/${phone}/channels`, {
          jid: channel,
        });
        expect(follow.body).toMatchObject({ channels: [channel] });
      }

      const post = await api(sim, 'POST', `/sim/v1/channels/${channel}/posts`, { text: 'news' });
      expect(post.status).toBe(201);
      expect(post.body).toMatchObject({ delivered: 1, queued: 1 });
      const got = await liveClient.next('channel_message');
      expect(got.message).toEqual({
        id: post.body['id'],
        channelJid: channel,
        timestamp: expect.any(Number),
        text: 'news',
      });

      const offlineClient = await login(sim, offlineCreds, 'gw-c');
      expect((await offlineClient.next('channel_message')).message.id).toBe(post.body['id']);
      await new Promise((r) => setTimeout(r, 30));
      expect(bystanderClient.count('channel_message')).toBe(0);

      const unfollow = await api(
        sim,
        'DELETE',
        `/sim/v1/devices/${live}/channels/${encodeURIComponent(channel)}`,
      );
      expect(unfollow.body).toMatchObject({ channels: [] });
      const second = await api(
        sim,
        'POST',
        `/sim/v1/channels/${encodeURIComponent(channel)}/posts`,
        { text: 'more' },
      );
      expect(second.body).toMatchObject({ delivered: 1, queued: 0 });
      for (const c of [liveClient, offlineClient, bystanderClient]) c.close();
    });
  });

  describe('protocol violations', () => {
    it('closes with 1008 when the first frame is not a hello, or a frame is malformed', async () => {
      const noHello = new RawClient(sim.url);
      await new Promise((r) => noHello.ws.once('open', r));
      noHello.sendRaw({ type: 'logout', reqId: 1 });
      expect((await noHello.closed).code).toBe(1008);

      const garbage = await RawClient.hello(sim, 'gw-x');
      await garbage.next('qr');
      garbage.ws.send('{not json');
      expect((await garbage.closed).code).toBe(1008);
    });

    it('refuses unknown credentials with 401', async () => {
      const client = await RawClient.hello(sim, 'gw-x', 'simtok_forged');
      expect(await client.closed).toEqual({ code: 4401, reason: 'invalid credentials' });
      expect(client.frames).toEqual([{ type: 'close', code: 401, reason: 'invalid credentials' }]);
    });
  });

  describe('control API validation', () => {
    const cases: [string, string, string, unknown, string[]][] = [
      ['scan without body', 'POST', '/sim/v1/qr:scan', undefined, ['body', 'qr', 'phoneNumber']],
      [
        'scan with bad fields',
        'POST',
        '/sim/v1/qr:scan',
        { qr: 'hello', phoneNumber: '+62811' },
        ['qr', 'phoneNumber'],
      ],
      [
        'unknown field',
        'POST',
        '/sim/v1/qr:scan',
        { qr: 'SIM-QR:a', phoneNumber: '6281100000001', x: 1 },
        ['x'],
      ],
      [
        'bad pairing code',
        'POST',
        '/sim/v1/pairing-codes:enter',
        { code: 'AB', phoneNumber: '6281100000001' },
        ['code'],
      ],
      [
        'message without text',
        'POST',
        '/sim/v1/messages',
        { from: '6281100000001', to: '6281100000002' },
        ['text'],
      ],
      ['message body is an array', 'POST', '/sim/v1/messages', [1], ['body', 'from', 'to', 'text']],
      [
        'disconnect code out of range',
        'POST',
        '/sim/v1/devices/6281100000001:disconnect',
        { code: 200 },
        ['code'],
      ],
      ['bad phone in path', 'POST', '/sim/v1/devices/62-811:logout', undefined, ['phoneNumber']],
      ['bad channel jid', 'POST', '/sim/v1/channels/not-a-channel/posts', { text: 'x' }, ['jid']],
      ['follow without jid', 'POST', '/sim/v1/devices/6281100000001/channels', {}, ['jid']],
      [
        'read ids not strings',
        'POST',
        '/sim/v1/devices/6281100000001/messages:read',
        { ids: [1] },
        ['ids'],
      ],
      ['bad phone on GET', 'GET', '/sim/v1/devices/abc/messages', undefined, ['phoneNumber']],
    ];
    it.each(cases)(
      '%s → 400 validation_error naming the fields',
      async (_name, method, path, body, fields) => {
        const res = await api(sim, method, path, body);
        expect(res.status).toBe(400);
        const error = res.body['error'] as {
          code: string;
          details: { fields: Record<string, string> };
        };
        expect(error.code).toBe('validation_error');
        expect(Object.keys(error.details.fields).sort()).toEqual([...fields].sort());
      },
    );

    it('answers malformed JSON with 400 and unknown routes and devices with 404', async () => {
      const bad = await fetch(`${sim.controlUrl}/sim/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"from":',
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe(
        'validation_error',
      );

      for (const [method, path, body] of [
        ['GET', '/sim/v1/nope', undefined],
        ['POST', '/sim/v1/devices/6281100000001:explode', undefined],
        ['POST', '/sim/v1/devices/6281100000001:logout', undefined],
        ['POST', '/sim/v1/messages', { from: '6281100000001', to: '6281100000002', text: 'x' }],
        ['GET', '/sim/v1/messages/3EB0NOPE', undefined],
      ] as const) {
        const res = await api(sim, method, path, body);
        expect([path, res.status]).toEqual([path, 404]);
        expect(res.body).toMatchObject({
          error: { code: 'not_found', details: expect.any(Object) },
        });
      }
    });
  });
});

describe('wa-sim housekeeping', () => {
  it('closes a socket that never says hello with 408, and rejects non-/ws upgrades', async () => {
    const sim = await startWaSim({ port: 0, helloTimeoutMs: 60 });
    try {
      const silent = new RawClient(sim.url);
      const closed = await silent.closed;
      expect(closed).toEqual({ code: 4408, reason: 'no hello' });

      const wrongPath = new WebSocket(sim.url.replace('/ws', '/other'));
      const status = await new Promise<number | undefined>((resolve) => {
        wrongPath.once('unexpected-response', (_req, res) => resolve(res.statusCode));
        wrongPath.once('error', () => resolve(undefined));
      });
      expect(status).toBe(404);
    } finally {
      await sim.close();
    }
  });

  it('closes live sockets with 1001 on shutdown', async () => {
    const sim = await startWaSim({ port: 0 });
    const client = await RawClient.hello(sim, 'gw-z');
    await client.next('qr');
    await sim.close();
    expect((await client.closed).code).toBe(1001);
  });
});

describe('wa-sim capacity', () => {
  it('holds 1,000 simultaneous connections in one process', async () => {
    const sim = await startWaSim({ port: 0 });
    try {
      const clients = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => RawClient.hello(sim, `gw-${i % 10}`)),
      );
      await Promise.all(clients.map((c) => c.next('qr', () => true, 10_000)));
      const health = await api(sim, 'GET', '/sim/v1/healthz');
      expect(health.body).toMatchObject({ connections: 1_000, pairing: 1_000 });
      for (const c of clients) c.ws.terminate();
    } finally {
      await sim.close();
    }
  }, 20_000);
});
