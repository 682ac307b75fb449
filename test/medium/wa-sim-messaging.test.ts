import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startWaSim,
  WaSimControlClient,
  type WaSimServer,
  type WebMessageRecord,
} from '@wagw/wa-sim';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { linkByQr, trustSim, WebClient, WebClientAuth } from '../support/baileys-web-client.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const { DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;

/**
 * Messaging on the WhatsApp Web side of the sim, driven by the real Baileys 7 client: Signal 1:1
 * both ways with receipts, channel posts, the offline queue and redelivery of what a companion
 * never acknowledged.
 */
describe('wa-sim messaging with the real Baileys client', () => {
  let sim: WaSimServer;
  let control: WaSimControlClient;
  const clients: WebClient[] = [];

  const link = async (phoneNumber: string): Promise<{ client: WebClient; auth: WebClientAuth }> => {
    const auth = new WebClientAuth();
    const client = await linkByQr(control, { url: sim.webUrl, auth }, phoneNumber);
    clients.push(client);
    return { client, auth };
  };

  const connect = async (auth: WebClientAuth, url = sim.webUrl): Promise<WebClient> => {
    const client = new WebClient({ url, auth });
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
  const phoneInbox = async (phone: string, id: string): Promise<WebMessageRecord> => {
    for (let i = 0; i < 100; i++) {
      const found = (await control.receivedMessages(phone)).find((m) => m.id === id);
      if (found) return found as WebMessageRecord;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`message ${id} never reached ${phone}`);
  };

  /** Waits until the companion of `phone` has `n` stanzas it has not acknowledged. */
  const unacknowledged = async (phone: string, n: number): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if ((await control.device(phone)).queued === n) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${phone} never had ${n} unacknowledged stanzas`);
  };

  const waitUntil = async (check: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('condition not met in time');
  };

  const record = async (id: string): Promise<WebMessageRecord> =>
    (await control.message(id)) as WebMessageRecord;

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
    control = new WaSimControlClient(sim.controlUrl);
    await trustSim(control);
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

    await expect(control.readMessages('6598700000001', [id])).resolves.toEqual({ read: 1 });
    await statusReached(client, id, READ);
    expect((await record(id)).status).toBe('read');
    expect(await control.receivedMessages('6598700000001')).toEqual([
      expect.objectContaining({ id, status: 'read', readAt: expect.any(Number) }),
    ]);
    // Reading again (every unread message: no ids) reads nothing new.
    await expect(control.readMessages('6598700000001')).resolves.toEqual({ read: 0 });
  });

  it('a chat state Baileys shows a phone is what the phone sees as typing', async () => {
    const { client } = await link('6281300000008');
    await client.sock.sendPresenceUpdate('composing', '6598700000008@s.whatsapp.net');
    await waitUntil(async () => (await control.presences('6598700000008')).length > 0);
    expect(await control.presences('6598700000008')).toEqual([
      { from: '6281300000008', presence: 'composing', timestamp: expect.any(Number) },
    ]);
    // The latest state per sender.
    await client.sock.sendPresenceUpdate('paused', '6598700000008@s.whatsapp.net');
    await waitUntil(
      async () => (await control.presences('6598700000008'))[0]?.presence === 'paused',
    );
    expect(await control.presences('6598700000008')).toHaveLength(1);
  });

  it("a phone's pkmsg, then (after the companion answered) its msg, arrive as messages.upsert", async () => {
    const { client } = await link('6281300000002');
    const first = await control.sendMessage(
      '6598700000002',
      '6281300000002',
      'first, a prekey message',
    );
    expect(first.delivery).toBe('delivered');
    const one = await upsertWith(client, 'first, a prekey message');
    expect(one.key).toMatchObject({ id: first.id, fromMe: false });
    expect(one.key.remoteJid).toMatch(/^(6598700000002@s\.whatsapp\.net|\d+@lid)$/);
    expect((await record(first.id)).encryption).toBe('pkmsg');

    const answer = await client.sock.sendMessage('6598700000002@s.whatsapp.net', {
      text: 'got it',
    });
    expect((await phoneInbox('6598700000002', answer?.key.id ?? '')).text).toBe('got it');

    const second = await control.sendMessage(
      '6598700000002',
      '6281300000002',
      'then a plain message, LID-addressed',
      'lid',
    );
    const two = await upsertWith(client, 'then a plain message, LID-addressed');
    expect(two.key.id).toBe(second.id);
    expect((await record(second.id)).encryption).toBe('msg');
  });

  it('a text between two linked companions reaches the other one, whose read comes back', async () => {
    const { client: alice } = await link('6281300000006');
    const { client: bob } = await link('6281300000007');
    const sent = await alice.sock.sendMessage('6281300000007@s.whatsapp.net', {
      text: 'companion to companion',
    });
    const id = sent?.key.id ?? '';
    const got = await upsertWith(bob, 'companion to companion');
    expect(got.key).toMatchObject({ id, fromMe: false });
    // Bob's phone got its own copy too: delivered at once.
    expect((await phoneInbox('6281300000007', id)).text).toBe('companion to companion');
    await statusReached(alice, id, DELIVERY_ACK);

    await bob.sock.readMessages([got.key]);
    await statusReached(alice, id, READ);
    expect((await record(id)).status).toBe('read');
  });

  it('a channel post reaches following companions only, an offline one at its next login', async () => {
    const channel = '120363000000000003@newsletter';
    const { client } = await link('6281300000003');
    const { client: offline, auth: offlineAuth } = await link('6281300000009');
    const { client: bystander } = await link('6281300000010');
    for (const phone of ['6281300000003', '6281300000009']) {
      await expect(control.followChannel(phone, channel)).resolves.toMatchObject({
        phoneNumber: phone,
        channels: [channel],
      });
    }
    await offline.end();
    const post = await control.postToChannel(channel, 'news for followers');
    expect(post).toEqual({
      id: expect.any(String),
      timestamp: expect.any(Number),
      delivered: 1,
      queued: 1,
    });
    const message = await upsertWith(client, 'news for followers');
    expect(message.key).toMatchObject({ remoteJid: channel, id: post.id, server_id: '100' });
    const later = await upsertWith(await connect(offlineAuth), 'news for followers');
    expect(later.key).toMatchObject({ remoteJid: channel, id: post.id });
    // The bystander got nothing from the channel (the post reached the late one after it).
    expect(
      bystander
        .seen('messages.upsert')
        .some(({ messages }) => messages.some((m) => m.key.remoteJid === channel)),
    ).toBe(false);
    expect((await control.device('6281300000010')).channels).toEqual([]);

    await expect(control.unfollowChannel('6281300000003', channel)).resolves.toMatchObject({
      channels: [],
    });
    await expect(control.unfollowChannel('6281300000003', channel)).rejects.toMatchObject({
      status: 404,
    });
    const second = await control.postToChannel(channel, 'only for the one left');
    expect(second).toMatchObject({ delivered: 1, queued: 0 });
  });

  it('a message sent while the companion is offline arrives at its next login', async () => {
    const { client, auth } = await link('6281300000004');
    await client.end();
    const sent = await control.sendMessage(
      '6598700000004',
      '6281300000004',
      'sent while you were away',
    );
    expect(sent.delivery).toBe('queued');
    expect(await record(sent.id)).toMatchObject({ status: 'sent', source: 'control' });
    expect(await control.device('6281300000004')).toMatchObject({ connected: false, queued: 1 });

    const again = await connect(auth);
    const message = await upsertWith(again, 'sent while you were away');
    expect(message.key.id).toBe(sent.id);
    await waitUntil(async () => (await record(sent.id)).status === 'delivered');
    // Its receipt acknowledged it: nothing waits any more.
    await unacknowledged('6281300000004', 0);
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
      const sent = await control.sendMessage('6598700000005', '6281300000005', 'acknowledge me');
      await upsertWith(viaProxy, 'acknowledge me');
      // Its receipt never got out; the connection dies.
      const closed = viaProxy.closed();
      await proxy.close();
      await closed;
      expect((await control.device('6281300000005')).queued).toBe(1);

      const restarted = await connect(beforeCrash);
      const redelivered = await upsertWith(restarted, 'acknowledge me');
      expect(redelivered.key.id).toBe(sent.id);
      await unacknowledged('6281300000005', 0);
    } finally {
      await proxy.close().catch(() => undefined);
    }
  });
});
