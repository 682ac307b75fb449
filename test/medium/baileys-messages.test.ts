import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startWaSim,
  WaSimControlClient,
  type WaSimServer,
  type WebMessageRecord,
} from '@wagw/wa-sim';
import {
  MemoryAuthStore,
  type WaChannelMessage,
  type WaConnection,
  type WaConnectionListener,
  type WaInboundMessage,
  type WaReceipt,
} from '@wagw/whatsapp';
import { BaileysConnectionFactory } from '@wagw/whatsapp-baileys';
import { pino } from 'pino';
import { trustSim } from '../support/baileys-web-client.js';

/** Records what the adapter hands over; `slowMs` makes each hand-over take that long. */
class Recorder implements WaConnectionListener {
  readonly messages: WaInboundMessage[] = [];
  readonly posts: WaChannelMessage[] = [];
  readonly receipts: WaReceipt[] = [];
  qr: string | null = null;
  opened = false;
  closed: number | null = null;
  inFlight = 0;
  maxInFlight = 0;
  slowMs = 0;
  /** A message with this text waits for `hold` (resolve: stored; reject: not stored). */
  holdText: string | null = null;
  /** Likewise the receipt `read` of the message with this id. */
  holdRead: string | null = null;
  hold: Promise<void> = Promise.resolve();
  holding = false;
  private waiters: (() => void)[] = [];

  onQr({ qr }: { qr: string }): void {
    this.qr = qr;
    this.wake();
  }
  onOpen(): void {
    this.opened = true;
    this.wake();
  }
  onClose({ code }: { code: number }): void {
    this.closed = code;
    this.wake();
  }
  async onMessage(message: WaInboundMessage): Promise<void> {
    if (message.text !== null && message.text === this.holdText) {
      this.holding = true;
      this.wake();
      await this.hold;
    }
    await this.handle(() => this.messages.push(message));
  }
  async onReceipt(receipt: WaReceipt): Promise<void> {
    if (receipt.status === 'read' && receipt.messageId === this.holdRead) {
      this.holding = true;
      this.wake();
      await this.hold;
    }
    await this.handle(() => this.receipts.push(receipt));
  }
  async onChannelMessage(message: WaChannelMessage): Promise<void> {
    await this.handle(() => this.posts.push(message));
  }
  private async handle(store: () => void): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.slowMs) await new Promise((r) => setTimeout(r, this.slowMs));
    store();
    this.inFlight--;
    this.wake();
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  async until<T>(what: string, check: () => T | undefined | null | false, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = check();
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
}

const PHONE = '6281400000001';
const FRIEND = '6598400000001';
const FRIEND_JID = `${FRIEND}@s.whatsapp.net`;

describe('the Baileys adapter against wa-sim: every content type in and out', () => {
  let sim: WaSimServer;
  let control: WaSimControlClient;
  let factory: BaileysConnectionFactory;
  const auth = new MemoryAuthStore();
  let listener: Recorder;
  let conn: WaConnection;

  const connect = async (): Promise<{ conn: WaConnection; listener: Recorder }> => {
    const l = new Recorder();
    const c = factory.create({ sessionId: 's1', clientId: 'test', auth, listener: l });
    await c.connect();
    return { conn: c, listener: l };
  };

  const phoneGot = async (id: string): Promise<WebMessageRecord> => {
    for (let i = 0; i < 200; i++) {
      const found = (await control.receivedMessages(FRIEND)).find((m) => m.id === id);
      if (found) return found as WebMessageRecord;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`message ${id} never reached ${FRIEND}`);
  };

  /** Stanzas the network still owes the companion (not acknowledged yet). */
  const queued = async (): Promise<number> => (await control.device(PHONE)).queued ?? -1;
  /** What is still queued once acknowledgements had up to 2.5 s to arrive. */
  const settled = async (): Promise<number> => {
    for (let i = 0; i < 50 && (await queued()) !== 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    return queued();
  };

  beforeAll(async () => {
    sim = await startWaSim({ port: 0 });
    control = new WaSimControlClient(sim.controlUrl);
    await trustSim(control);
    factory = new BaileysConnectionFactory({
      logger: pino({ level: 'silent' }),
      waWebSocketUrl: sim.webUrl,
      connectTimeoutMs: 10_000,
      // As a sandbox gateway does: trust the sim's media host certificate, for media only.
      mediaAgent: () => new Agent({ ca: sim.media.certificate }),
    });
    const pairing = await connect();
    const qr = await pairing.listener.until('a QR', () => pairing.listener.qr);
    await control.scanQr(qr, PHONE);
    expect(await pairing.listener.until('515', () => pairing.listener.closed)).toBe(515);
    ({ conn, listener } = await connect());
    await listener.until('open', () => listener.opened);
  }, 60_000);

  afterAll(async () => {
    await conn?.close();
    await sim?.close();
  });

  it('hands every inbound content type over with type, media metadata, replyTo and JSON raw', async () => {
    const sha = createHash('sha256').update('picture bytes').digest('hex');
    const sends: [Record<string, unknown>, Partial<WaInboundMessage>][] = [
      [
        { type: 'text', text: 'plain' },
        { type: 'text', text: 'plain', replyTo: null },
      ],
      [
        {
          type: 'image',
          mimetype: 'image/png',
          caption: 'a picture',
          size: 13,
          sha256: sha,
        },
        {
          type: 'image',
          text: 'a picture',
          media: { mimetype: 'image/png', filename: null, size: 13, sha256: sha },
        },
      ],
      [
        { type: 'video', mimetype: 'video/mp4', size: 1000 },
        {
          type: 'video',
          media: { mimetype: 'video/mp4', filename: null, size: 1000, sha256: null },
        },
      ],
      [
        { type: 'audio', mimetype: 'audio/ogg; codecs=opus', size: 500 },
        {
          type: 'audio',
          media: { mimetype: 'audio/ogg; codecs=opus', filename: null, size: 500, sha256: null },
        },
      ],
      [
        { type: 'document', mimetype: 'application/pdf', filename: 'a.pdf', caption: 'doc' },
        {
          type: 'document',
          text: 'doc',
          media: { mimetype: 'application/pdf', filename: 'a.pdf', size: null, sha256: null },
        },
      ],
      [
        { type: 'location', latitude: -6.2, longitude: 106.8, name: 'Monas' },
        { type: 'location', text: 'Monas' },
      ],
      [
        { type: 'contact', displayName: 'Bob', vcard: 'BEGIN:VCARD\nFN:Bob\nEND:VCARD' },
        { type: 'contact', text: 'Bob' },
      ],
    ];
    const ids: string[] = [];
    for (const [content] of sends) {
      ids.push((await control.sendContent(FRIEND, PHONE, content)).id);
    }
    const reply = await control.sendContent(FRIEND, PHONE, {
      type: 'text',
      text: 'a reply',
      replyTo: ids[0],
    });
    const reaction = await control.sendContent(FRIEND, PHONE, {
      type: 'reaction',
      messageId: ids[1],
      emoji: '👍',
    });
    await listener.until('all handed over', () => listener.messages.length >= sends.length + 2);
    const byId = new Map(listener.messages.map((m) => [m.id, m]));
    sends.forEach(([, expected], i) => {
      expect(byId.get(ids[i]!)).toMatchObject({
        chatJid: FRIEND_JID,
        fromJid: FRIEND_JID,
        fromMe: false,
        ...expected,
      });
    });
    expect(byId.get(reply.id)).toMatchObject({ type: 'text', text: 'a reply', replyTo: ids[0] });
    expect(byId.get(reaction.id)).toMatchObject({ type: 'reaction', text: '👍', replyTo: ids[1] });
    // Raw is plain JSON: bytes as base64, no Buffers or Longs; media bytes never appear.
    for (const m of listener.messages) {
      expect(JSON.parse(JSON.stringify(m.raw))).toEqual(m.raw);
      expect(m.raw).toMatchObject({ key: { id: m.id } });
    }
  });

  it('hands a channel post over as a channel message', async () => {
    const channel = '120363000000000401@newsletter';
    await control.followChannel(PHONE, channel);
    const post = await control.postToChannel(channel, 'news');
    const got = await listener.until('the post', () =>
      listener.posts.find((p) => p.id === post.id),
    );
    expect(got).toMatchObject({ channelJid: channel, type: 'text', text: 'news' });
    expect(listener.messages.find((m) => m.id === post.id)).toBeUndefined();
  });

  it('waits for each hand-over: one at a time, in order, none dropped', async () => {
    listener.slowMs = 50;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await control.sendMessage(FRIEND, PHONE, `slow ${i}`)).id);
    }
    await listener.until('five slow ones', () =>
      ids.every((id) => listener.messages.some((m) => m.id === id)),
    );
    listener.slowMs = 0;
    expect(listener.maxInFlight).toBe(1);
    const inOrder = listener.messages.filter((m) => ids.includes(m.id));
    expect(inOrder.map((m) => m.id)).toEqual(ids);
    // WhatsApp stamps seconds; within a second the arrival order refines them: strictly rising.
    const stamps = inOrder.map((m) => m.timestamp);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
  });

  it('stores what the network queued while it was offline (delivered as append)', async () => {
    await conn.close();
    await listener.until('closed', () => listener.closed !== null);
    const whileOffline = await control.sendMessage(FRIEND, PHONE, 'sent while offline');
    expect(whileOffline.delivery).toBe('queued');
    ({ conn, listener } = await connect());
    await listener.until('open', () => listener.opened);
    const got = await listener.until('the queued message', () =>
      listener.messages.find((m) => m.id === whileOffline.id),
    );
    expect(got).toMatchObject({ type: 'text', text: 'sent while offline' });
  });

  it('sends every non-media content type; the phone decrypts each as sent; receipts come back', async () => {
    const first = await conn.sendMessage(
      FRIEND_JID,
      { type: 'text', text: 'hello' },
      { replyTo: null, mentions: [] },
    );
    expect(first.raw).toMatchObject({ key: { id: first.id } });
    expect((await phoneGot(first.id)).content).toMatchObject({ type: 'text', text: 'hello' });
    await listener.until('delivered', () =>
      listener.receipts.find((r) => r.messageId === first.id && r.status === 'delivered'),
    );

    const reply = await conn.sendMessage(
      FRIEND_JID,
      { type: 'text', text: 'see above, @friend' },
      { replyTo: 'SOMEID123', mentions: [FRIEND_JID] },
    );
    expect((await phoneGot(reply.id)).content).toMatchObject({
      type: 'text',
      text: 'see above, @friend',
      replyTo: 'SOMEID123',
      mentions: [FRIEND_JID],
    });

    const location = await conn.sendMessage(
      FRIEND_JID,
      { type: 'location', latitude: 1.29, longitude: 103.85, name: 'Merlion', address: null },
      { replyTo: null, mentions: [] },
    );
    expect((await phoneGot(location.id)).content).toEqual({
      type: 'location',
      location: { latitude: 1.29, longitude: 103.85, name: 'Merlion', address: null },
    });

    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Alice\nTEL;type=CELL:+6591234567\nEND:VCARD';
    const contact = await conn.sendMessage(
      FRIEND_JID,
      { type: 'contact', displayName: 'Alice', vcard },
      { replyTo: null, mentions: [] },
    );
    expect((await phoneGot(contact.id)).content).toEqual({
      type: 'contact',
      contact: { displayName: 'Alice', vcard },
    });

    const reaction = await conn.sendMessage(
      FRIEND_JID,
      { type: 'reaction', messageId: first.id, emoji: '❤️' },
      { replyTo: null, mentions: [] },
    );
    expect((await phoneGot(reaction.id)).content).toEqual({
      type: 'reaction',
      reaction: { messageId: first.id, emoji: '❤️' },
    });

    await control.readMessages(FRIEND, [first.id]);
    await listener.until('read', () =>
      listener.receipts.find((r) => r.messageId === first.id && r.status === 'read'),
    );
  });

  it('sends image, video, audio and document: uploaded encrypted, the phone decrypts the same bytes', async () => {
    // A 1×1 PNG, so the thumbnail step has a real image.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    const cases = [
      { type: 'image' as const, bytes: png, mimetype: 'image/png', filename: null, caption: 'pic' },
      {
        type: 'video' as const,
        bytes: randomBytes(40_000),
        mimetype: 'video/mp4',
        filename: null,
        caption: null,
      },
      {
        type: 'audio' as const,
        bytes: randomBytes(3_000),
        mimetype: 'audio/ogg; codecs=opus',
        filename: null,
        caption: null,
      },
      {
        type: 'document' as const,
        bytes: randomBytes(70_000),
        mimetype: 'application/pdf',
        filename: 'report.pdf',
        caption: 'the report',
      },
    ];
    for (const c of cases) {
      const sent = await conn.sendMessage(
        FRIEND_JID,
        {
          type: c.type,
          media: {
            base64: c.bytes.toString('base64'),
            mimetype: c.mimetype,
            filename: c.filename,
            caption: c.caption,
          },
        },
        { replyTo: null, mentions: [] },
      );
      const sha256 = createHash('sha256').update(c.bytes).digest('hex');
      expect(sent.mediaSha256).toBe(sha256);
      const got = await phoneGot(sent.id);
      expect(got.content).toMatchObject({
        type: c.type,
        media: {
          mimetype: c.mimetype,
          fileLength: c.bytes.length,
          fileSha256: sha256,
          // Downloaded from the media host and decrypted with the message's media key.
          downloaded: { sha256, size: c.bytes.length },
          ...(c.filename ? { fileName: c.filename } : {}),
        },
        ...(c.caption ? { caption: c.caption } : {}),
      });
    }
  }, 60_000);

  it('acknowledges a message to the network only once the listener stored it; never when it failed', async () => {
    let release!: () => void;
    let fail!: (e: Error) => void;
    listener.holdText = 'hold me';
    listener.hold = new Promise<void>((resolve) => (release = resolve));
    const held = await control.sendMessage(FRIEND, PHONE, 'hold me');
    await listener.until('the hand-over started', () => listener.holding);
    await new Promise((r) => setTimeout(r, 300));
    // Baileys has decrypted it and written its receipt; the receipt is held, the network waits.
    expect(await queued()).toBe(1);
    release();
    await listener.until('stored', () => listener.messages.find((m) => m.id === held.id));
    expect(await settled()).toBe(0);

    // A listener that cannot store it: no acknowledgement, the connection ends, the network
    // delivers it again at the next login.
    listener.holding = false;
    listener.holdText = 'fail me';
    listener.hold = new Promise<void>((_, reject) => (fail = reject));
    const failed = await control.sendMessage(FRIEND, PHONE, 'fail me');
    await listener.until('the hand-over started', () => listener.holding);
    fail(new Error('the event store is down'));
    expect(await listener.until('closed', () => listener.closed)).toBe(428);
    expect(await queued()).toBe(1);
    ({ conn, listener } = await connect());
    await listener.until('open', () => listener.opened);
    const again = await listener.until('redelivered', () =>
      listener.messages.find((m) => m.id === failed.id),
    );
    expect(again).toMatchObject({ type: 'text', text: 'fail me' });
    expect(await settled()).toBe(0);
  }, 60_000);

  it('acknowledges a receipt only once the listener stored it; one not stored comes again', async () => {
    const sent = await conn.sendMessage(
      FRIEND_JID,
      { type: 'text', text: 'read me' },
      { replyTo: null, mentions: [] },
    );
    await listener.until('delivered', () =>
      listener.receipts.find((r) => r.messageId === sent.id && r.status === 'delivered'),
    );
    expect(await settled()).toBe(0);

    let fail!: (e: Error) => void;
    listener.holding = false;
    listener.holdRead = sent.id;
    listener.hold = new Promise<void>((_, reject) => (fail = reject));
    await control.readMessages(FRIEND, [sent.id]);
    await listener.until('the hand-over started', () => listener.holding);
    await new Promise((r) => setTimeout(r, 300));
    // Baileys has written its acknowledgement of the receipt; it is held, the network waits.
    expect(await queued()).toBe(1);
    fail(new Error('the event store is down'));
    expect(await listener.until('closed', () => listener.closed)).toBe(428);
    expect(await queued()).toBe(1);

    ({ conn, listener } = await connect());
    await listener.until('open', () => listener.opened);
    await listener.until('the read receipt again', () =>
      listener.receipts.find((r) => r.messageId === sent.id && r.status === 'read'),
    );
    expect(await settled()).toBe(0);
  }, 60_000);

  it('reports a send written behind a message still being stored only once its frame left; fails it when the connection ends first', async () => {
    const pending = (p: Promise<unknown>, ms: number): Promise<boolean> =>
      Promise.race([
        p.then(
          () => false,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(true), ms)),
      ]);
    const text = { replyTo: null, mentions: [] };
    let release!: () => void;
    listener.holding = false;
    listener.holdText = 'hold the line';
    listener.hold = new Promise<void>((resolve) => (release = resolve));
    await control.sendMessage(FRIEND, PHONE, 'hold the line');
    await listener.until('the hand-over started', () => listener.holding);
    const send = conn.sendMessage(FRIEND_JID, { type: 'text', text: 'behind it' }, text);
    expect(await pending(send, 500)).toBe(true);
    release();
    const sent = await send;
    expect((await phoneGot(sent.id)).content).toMatchObject({ text: 'behind it' });

    let fail!: (e: Error) => void;
    listener.holding = false;
    listener.holdText = 'and fail';
    listener.hold = new Promise<void>((_, reject) => (fail = reject));
    await control.sendMessage(FRIEND, PHONE, 'and fail');
    await listener.until('the hand-over started', () => listener.holding);
    const lost = conn.sendMessage(FRIEND_JID, { type: 'text', text: 'never left' }, text);
    expect(await pending(lost, 500)).toBe(true);
    fail(new Error('the event store is down'));
    await expect(lost).rejects.toThrow('the connection is closing');
    expect(await listener.until('closed', () => listener.closed)).toBe(428);
    ({ conn, listener } = await connect());
    await listener.until('open', () => listener.opened);
    await listener.until('redelivered', () => listener.messages.find((m) => m.text === 'and fail'));
  }, 60_000);
});
