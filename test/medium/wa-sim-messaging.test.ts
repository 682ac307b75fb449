import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startWaSim, type WaSimServer } from '@wagw/wa-sim';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { linkByQr, WebClient, type WebClientAuth } from '../support/baileys-web-client.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const { DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;

interface PhoneMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  status: string;
  ownPhoneCopy?: boolean;
  encryption?: string;
}

/**
 * Messaging on the WhatsApp Web side of the sim, driven by the real Baileys 7 client: Signal 1:1
 * both ways with receipts, channel posts, the offline queue and redelivery of what a companion
 * never acknowledged.
 */
describe('wa-sim messaging with the real Baileys client', () => {
  let sim: WaSimServer;
  const clients: WebClient[] = [];

  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${sim.controlUrl}/sim/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (res.status >= 300)
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const link = async (phoneNumber: string): Promise<{ client: WebClient; auth: WebClientAuth }> => {
    const linked = await linkByQr(sim, phoneNumber);
    clients.push(linked.client);
    return linked;
  };

  const connect = async (auth: WebClientAuth, url = sim.webUrl): Promise<WebClient> => {
    const client = new WebClient({ url, auth, rootPublicKey: sim.rootPublicKey });
    clients.push(client);
    await client.opened();
    return client;
  };

  const upsertWith = (client: WebClient, text: string): Promise<WAMessage> =>
    client.next('messages.upsert', ({ messages }) =>
      messages.find(
        (m) => (m.message?.conversation ?? m.message?.extendedTextMessage?.text) === text,
      ),
    );

  /** What the simulated phone received, once a message with `id` is there. */
  const phoneInbox = async (phone: string, id: string): Promise<PhoneMessage> => {
    for (let i = 0; i < 100; i++) {
      const { items } = await control<{ items: PhoneMessage[] }>(
        'GET',
        `/devices/${phone}/messages`,
      );
      const found = items.find((m) => m.id === id);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`message ${id} never reached ${phone}`);
  };

  /** A status for our own message: a `messages.update`, or merged into the buffered upsert. */
  const statusReached = (
    client: WebClient,
    id: string,
    status: proto.WebMessageInfo.Status,
  ): Promise<true> =>
    Promise.race([
      client.next('messages.update', (updates) =>
        updates.some((u) => u.key.id === id && (u.update.status ?? 0) >= status) ? true : undefined,
      ),
      client.next('messages.upsert', ({ messages }) =>
        messages.some((m) => m.key.id === id && (m.status ?? 0) >= status) ? true : undefined,
      ),
    ]);

  beforeAll(async () => {
    sim = await startWaSim({ port: 0 });
  });

  afterAll(async () => {
    for (const client of clients) void client.sock.end(undefined);
    await sim.close();
  });

  it('a text sent by Baileys is decrypted by the simulated phone, then delivered and read come back', async () => {
    const { client } = await link('6281300000001');
    const sent = await client.sock.sendMessage('6598700000001@s.whatsapp.net', {
      text: 'hello from real baileys',
    });
    const id = sent?.key.id ?? '';

    const received = await phoneInbox('6598700000001', id);
    expect(received).toMatchObject({
      from: '6281300000001',
      to: '6598700000001',
      text: 'hello from real baileys',
      encryption: 'pkmsg',
      // The device-sent copy for the account's own phone was decrypted too.
      ownPhoneCopy: true,
    });
    await statusReached(client, id, DELIVERY_ACK);

    await control('POST', '/devices/6598700000001/messages:read', { ids: [id] });
    await statusReached(client, id, READ);
    expect((await control<PhoneMessage>('GET', `/messages/${id}`)).status).toBe('read');
  });

  it("a phone's pkmsg, then (after the companion answered) its msg, arrive as messages.upsert", async () => {
    const { client } = await link('6281300000002');
    const first = await control<{ id: string; delivery: string }>('POST', '/messages', {
      from: '6598700000002',
      to: '6281300000002',
      text: 'first, a prekey message',
    });
    expect(first.delivery).toBe('delivered');
    const one = await upsertWith(client, 'first, a prekey message');
    expect(one.key).toMatchObject({ id: first.id, fromMe: false });
    expect(one.key.remoteJid).toMatch(/^(6598700000002@s\.whatsapp\.net|\d+@lid)$/);
    expect((await control<PhoneMessage>('GET', `/messages/${first.id}`)).encryption).toBe('pkmsg');

    const answer = await client.sock.sendMessage('6598700000002@s.whatsapp.net', {
      text: 'got it',
    });
    expect((await phoneInbox('6598700000002', answer?.key.id ?? '')).text).toBe('got it');

    const second = await control<{ id: string }>('POST', '/messages', {
      from: '6598700000002',
      to: '6281300000002',
      text: 'then a plain message, LID-addressed',
      addressing: 'lid',
    });
    const two = await upsertWith(client, 'then a plain message, LID-addressed');
    expect(two.key.id).toBe(second.id);
    expect((await control<PhoneMessage>('GET', `/messages/${second.id}`)).encryption).toBe('msg');
  });

  it('a channel post reaches a follower as a newsletter message', async () => {
    const { client } = await link('6281300000003');
    const channel = '120363000000000003@newsletter';
    await control('POST', '/devices/6281300000003/channels', { jid: channel });
    const post = await control<{ id: string; delivered: number }>(
      'POST',
      `/channels/${channel}/posts`,
      { text: 'news for followers' },
    );
    expect(post.delivered).toBe(1);
    const message = await upsertWith(client, 'news for followers');
    expect(message.key).toMatchObject({ remoteJid: channel, id: post.id, server_id: '100' });
  });

  it('a message sent while the companion is offline arrives at its next login', async () => {
    const { client, auth } = await link('6281300000004');
    await client.end();
    const sent = await control<{ id: string; delivery: string }>('POST', '/messages', {
      from: '6598700000004',
      to: '6281300000004',
      text: 'sent while you were away',
    });
    expect(sent.delivery).toBe('queued');

    const again = await connect(auth);
    const message = await upsertWith(again, 'sent while you were away');
    expect(message.key.id).toBe(sent.id);
  });

  it('a message the companion never acknowledged is redelivered at its next login', async () => {
    const { client: first, auth } = await link('6281300000005');
    await first.end();
    const [host, port] = new URL(sim.webUrl).host.split(':');
    const proxy = await startTcpProxy({ host: host ?? '127.0.0.1', port: Number(port) });
    try {
      const viaProxy = await connect(auth, `ws://127.0.0.1:${proxy.port}/ws/chat`);
      // The client's state before the message: a crash loses everything written after it.
      const beforeCrash = auth.snapshot();
      proxy.freezeUpstream();
      const sent = await control<{ id: string }>('POST', '/messages', {
        from: '6598700000005',
        to: '6281300000005',
        text: 'acknowledge me',
      });
      await upsertWith(viaProxy, 'acknowledge me');
      // Its receipt never got out; the connection dies.
      const closed = viaProxy.closed();
      await proxy.close();
      await closed;
      const device = await control<{ queued: number; connected: boolean }>(
        'GET',
        '/devices/6281300000005',
      );
      expect(device.queued).toBe(1);

      const restarted = await connect(beforeCrash);
      const redelivered = await upsertWith(restarted, 'acknowledge me');
      expect(redelivered.key.id).toBe(sent.id);
    } finally {
      await proxy.close().catch(() => undefined);
    }
  });
});
