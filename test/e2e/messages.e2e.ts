import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ApiProcess, call, cliCreateApiKey, startApiProcess } from '../support/api-process.js';
import { Fleet, pairSessions, type PairedSession } from '../support/fleet.js';
import { waitFor } from '../support/processes.js';

/**
 * Messages and channels through the real processes: an API (two replicas for the rate
 * limits), two gateways running the real Baileys client, wa-sim (WhatsApp Web with Signal, and
 * its media host), NATS and Postgres. The simulated phones play the other side.
 */

const ORG = 'org_messages_e2e';
const PHONE = '6281200000001';
const FRIEND = '6591230001';
const FRIEND_JID = `${FRIEND}@s.whatsapp.net`;

interface Listed {
  id: string;
  chatJid: string;
  from: string | null;
  fromMe: boolean;
  timestamp: number;
  type: string;
  text: string | null;
  media: {
    mimetype: string;
    filename: string | null;
    size: number | null;
    sha256: string | null;
  } | null;
  replyTo: string | null;
  status: string;
}

interface PhoneRecord {
  id: string;
  from: string;
  text: string;
  type?: string;
  content?: Record<string, unknown>;
}

describe('messages and channels (API + 2 gateways + wa-sim, NATS, Postgres)', () => {
  const fleet = new Fleet();
  const sim = () => fleet.sim.control;
  let key: string;
  let session: PairedSession;
  let second: ApiProcess;

  const api = (
    method: string,
    path: string,
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      token?: string;
      via?: ApiProcess;
    } = {},
  ) =>
    call((options.via ?? fleet.api).baseUrl, method, `/api/v1${path}`, {
      token: options.token ?? key,
      body: options.body,
      headers: options.headers,
    });

  /** Every stored message of a chat, page by page (limit 7), newest first. */
  async function listAll(path: string): Promise<Listed[]> {
    const all: Listed[] = [];
    let cursor = '';
    for (;;) {
      const res = await api(
        'GET',
        `${path}?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      all.push(...(res.body.items as Listed[]));
      cursor = res.body.nextCursor as string;
      if (cursor === '') return all;
    }
  }

  beforeAll(async () => {
    await fleet.start();
    key = await fleet.apiKey(ORG);
    session = (await pairSessions(fleet, key, [PHONE]))[0]!;
    second = await startApiProcess(fleet.apiEnv());
  }, 240_000);
  afterAll(async () => {
    await second?.stop();
    await fleet.stop();
  }, 180_000);

  it('stores a phone’s messages once and lists them newest first; autoRead marks them read at the phone', async () => {
    expect(
      (await api('PATCH', `/sessions/${session.id}`, { body: { autoRead: true } })).status,
    ).toBe(200);
    // The holder applies the setting at once (a nudge) or at its next renewal: once a probe
    // is read at the phone, it has.
    await waitFor(
      'autoRead applied',
      async () => {
        const probe = { body: await sim().sendMessage(FRIEND, PHONE, 'probe') };
        for (let i = 0; i < 20; i++) {
          await new Promise((r) => setTimeout(r, 100));
          if ((await sim().message(probe.body.id)).status === 'read') return true;
        }
        return false;
      },
      60_000,
    );
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      sent.push((await sim().sendMessage(FRIEND, PHONE, `inbound ${i}`)).id);
    }
    const path = `/sessions/${session.id}/chats/${FRIEND_JID}/messages`;
    const listed = await waitFor(
      'all 30 stored',
      async () => {
        const all = (await listAll(path)).filter((m) => m.text !== 'probe');
        return all.length >= 30 ? all : null;
      },
      60_000,
    );
    expect(listed.map((m) => m.id).sort()).toEqual([...sent].sort());
    expect(new Set(listed.map((m) => m.id)).size).toBe(30);
    // Newest first: the reverse of the order the phone sent them in.
    expect(listed.map((m) => m.id)).toEqual([...sent].reverse());
    expect(listed[0]).toMatchObject({
      chatJid: FRIEND_JID,
      from: FRIEND_JID,
      fromMe: false,
      type: 'text',
      text: 'inbound 29',
      status: 'received',
    });
    // Read receipts reach the phone (autoRead), for every message.
    await waitFor(
      'all read at the phone',
      async () => {
        for (const id of sent) {
          if ((await sim().message(id)).status !== 'read') return false;
        }
        return true;
      },
      60_000,
    );
    const chats = await api('GET', `/sessions/${session.id}/chats`);
    expect(chats.status).toBe(200);
    expect(chats.body).toEqual({
      items: [{ jid: FRIEND_JID, lastMessage: expect.objectContaining({ id: sent[29] }) }],
      nextCursor: '',
    });
  }, 180_000);

  it('sends a text: 201 with id, chatJid, timestamp, sent; the phone has it; receipts update status', async () => {
    const res = await api('POST', `/sessions/${session.id}/messages`, {
      body: { to: `+${FRIEND}`, text: 'hello from the API' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      chatJid: FRIEND_JID,
      timestamp: expect.any(Number),
      status: 'sent',
    });
    expect(await sim().receivedMessages(FRIEND)).toContainEqual(
      expect.objectContaining({ id: res.body.id, from: PHONE, text: 'hello from the API' }),
    );
    const path = `/sessions/${session.id}/chats/${FRIEND_JID}/messages`;
    const find = async () => (await listAll(path)).find((m) => m.id === res.body.id);
    await waitFor('delivered', async () => (await find())?.status === 'delivered', 60_000);
    expect(await find()).toMatchObject({ fromMe: true, text: 'hello from the API', type: 'text' });
    await sim().readMessages(FRIEND, [res.body.id as string]);
    await waitFor('read', async () => (await find())?.status === 'read', 60_000);
  }, 180_000);

  it('sends every content type: the phone decrypts each as sent, media bytes hash-equal', async () => {
    const inbox = async (id: string): Promise<PhoneRecord> =>
      waitFor(
        `${id} at the phone`,
        async () => {
          const items = (await sim().receivedMessages(FRIEND)) as unknown as PhoneRecord[];
          return items.find((m) => m.id === id);
        },
        30_000,
      );
    const send = async (body: Record<string, unknown>): Promise<string> => {
      const res = await api('POST', `/sessions/${session.id}/messages`, {
        body: { to: FRIEND, ...body },
      });
      expect([res.status, res.body.error]).toEqual([201, undefined]);
      return res.body.id as string;
    };
    const first = await send({ text: 'the first' });
    const reply = await send({ text: 'a reply', replyTo: first, mentions: [FRIEND_JID] });
    expect((await inbox(reply)).content).toMatchObject({
      type: 'text',
      text: 'a reply',
      replyTo: first,
      mentions: [FRIEND_JID],
    });
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    const media = [
      { field: 'image', bytes: png, mimetype: 'image/png', caption: 'a picture' },
      { field: 'video', bytes: randomBytes(30_000), mimetype: 'video/mp4', caption: 'a film' },
      { field: 'audio', bytes: randomBytes(2_000), mimetype: 'audio/ogg' },
      {
        field: 'document',
        bytes: randomBytes(50_000),
        mimetype: 'application/pdf',
        filename: 'report.pdf',
        caption: 'the report',
      },
    ];
    const path = `/sessions/${session.id}/chats/${FRIEND_JID}/messages`;
    for (const m of media) {
      const { field, bytes, ...rest } = m;
      const id = await send({ [field]: { base64: bytes.toString('base64'), ...rest } });
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect((await inbox(id)).content).toMatchObject({
        type: field,
        ...(m.caption ? { caption: m.caption } : {}),
        media: {
          mimetype: m.mimetype,
          fileLength: bytes.length,
          ...(m.filename ? { fileName: m.filename } : {}),
          // Fetched from the sim's media host and decrypted by the phone: the same bytes.
          downloaded: { sha256, size: bytes.length },
        },
      });
      const stored = await waitFor(
        `${field} stored`,
        async () => (await listAll(path)).find((x) => x.id === id),
        30_000,
      );
      expect(stored).toMatchObject({
        type: field,
        fromMe: true,
        media: { mimetype: m.mimetype, size: bytes.length, sha256 },
      });
    }
    const place = await send({
      location: { latitude: -6.175, longitude: 106.827, name: 'Monas', address: 'Jakarta' },
    });
    expect((await inbox(place)).content).toEqual({
      type: 'location',
      location: { latitude: -6.175, longitude: 106.827, name: 'Monas', address: 'Jakarta' },
    });
    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Alice\nTEL;type=CELL:+6591234567\nEND:VCARD';
    const card = await send({ contact: { displayName: 'Alice', vcard } });
    expect((await inbox(card)).content).toEqual({
      type: 'contact',
      contact: { displayName: 'Alice', vcard },
    });
    const reaction = await send({ reaction: { messageId: first, emoji: '👍' } });
    expect((await inbox(reaction)).content).toEqual({
      type: 'reaction',
      reaction: { messageId: first, emoji: '👍' },
    });
  }, 180_000);

  it('receives every content type: stored once with type, caption, media metadata and replyTo', async () => {
    const sha256 = createHash('sha256').update('the bytes').digest('hex');
    const contents: [Record<string, unknown>, Partial<Listed>][] = [
      [
        { type: 'image', mimetype: 'image/jpeg', caption: 'look', size: 9, sha256 },
        {
          type: 'image',
          text: 'look',
          media: { mimetype: 'image/jpeg', filename: null, size: 9, sha256 },
        },
      ],
      [
        { type: 'video', mimetype: 'video/mp4', size: 1_000 },
        {
          type: 'video',
          media: { mimetype: 'video/mp4', filename: null, size: 1_000, sha256: null },
        },
      ],
      [
        { type: 'audio', mimetype: 'audio/ogg', size: 500 },
        {
          type: 'audio',
          media: { mimetype: 'audio/ogg', filename: null, size: 500, sha256: null },
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
        { type: 'location', latitude: 1.28, longitude: 103.85, name: 'Merlion' },
        { type: 'location', text: 'Merlion' },
      ],
      [
        { type: 'contact', displayName: 'Bob', vcard: 'BEGIN:VCARD\nFN:Bob\nEND:VCARD' },
        { type: 'contact', text: 'Bob' },
      ],
    ];
    const ids: string[] = [];
    for (const [content] of contents) {
      ids.push((await sim().sendContent(FRIEND, PHONE, content)).id);
    }
    const reply = {
      body: await sim().sendContent(FRIEND, PHONE, {
        type: 'text',
        text: 'quoting',
        replyTo: ids[0],
      }),
    };
    const reaction = {
      body: await sim().sendContent(FRIEND, PHONE, {
        type: 'reaction',
        messageId: ids[0],
        emoji: '🔥',
      }),
    };
    const path = `/sessions/${session.id}/chats/${FRIEND_JID}/messages`;
    const all = [...ids, reply.body.id, reaction.body.id];
    const listed = await waitFor(
      'every content type stored',
      async () => {
        const found = (await listAll(path)).filter((m) => all.includes(m.id));
        return found.length === all.length ? found : null;
      },
      60_000,
    );
    const byId = new Map(listed.map((m) => [m.id, m]));
    contents.forEach(([, expected], i) => {
      expect(byId.get(ids[i]!)).toMatchObject({
        fromMe: false,
        from: FRIEND_JID,
        status: 'received',
        ...expected,
      });
    });
    expect(byId.get(reply.body.id)).toMatchObject({
      type: 'text',
      text: 'quoting',
      replyTo: ids[0],
    });
    expect(byId.get(reaction.body.id)).toMatchObject({
      type: 'reaction',
      text: '🔥',
      replyTo: ids[0],
    });
  }, 180_000);

  it('an Idempotency-Key retry returns the first result and sends once, on either replica', async () => {
    const body = { to: FRIEND, text: 'exactly once' };
    const headers = { 'idempotency-key': `once-${Date.now()}` };
    const first = await api('POST', `/sessions/${session.id}/messages`, { body, headers });
    const retry = await api('POST', `/sessions/${session.id}/messages`, {
      body,
      headers,
      via: second,
    });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    const items = await sim().receivedMessages(FRIEND);
    expect(items.filter((m) => m.text === 'exactly once')).toHaveLength(1);
    const other = await api('POST', `/sessions/${session.id}/messages`, {
      body: { to: FRIEND, text: 'not the same' },
      headers,
    });
    expect(other.status).toBe(400);
  }, 180_000);

  it('presenceTyping shows "typing…" at the phone before a text', async () => {
    await api('PATCH', `/sessions/${session.id}`, { body: { presenceTyping: true } });
    // The holder applies the setting at once (a nudge) or at its next renewal: texts are sent
    // until one is preceded by "typing…" at the phone.
    const typed = await waitFor(
      'typing shown before a text',
      async () => {
        const res = await api('POST', `/sessions/${session.id}/messages`, {
          body: { to: FRIEND, text: 'typed' },
        });
        expect(res.status).toBe(201);
        const items = await sim().presences(FRIEND);
        const typing = items.find((p) => p.from === PHONE && p.presence === 'composing');
        return typing ? { typing, id: res.body.id as string } : null;
      },
      30_000,
    );
    // Typing was shown before the text reached the phone, for at least the typing delay.
    const { timestamp } = await sim().message(typed.id);
    expect(timestamp - typed.typing.timestamp).toBeGreaterThanOrEqual(250);
    await api('PATCH', `/sessions/${session.id}`, { body: { presenceTyping: false } });
  }, 180_000);

  it('validates before looking up: exactly one content, to, media, limit, cursor', async () => {
    const send = (body: unknown, id = session.id) =>
      api('POST', `/sessions/${id}/messages`, { body });
    for (const body of [
      { to: FRIEND },
      { to: FRIEND, text: 'a', location: { latitude: 1, longitude: 2 } },
      { to: 'nobody', text: 'a' },
      { to: FRIEND, text: 'a', extra: true },
      { to: FRIEND, image: { mimetype: 'image/png' } },
      {
        to: FRIEND,
        image: { base64: 'aGk=', url: 'https://example.com/x.png', mimetype: 'image/png' },
      },
      { to: FRIEND, image: { url: 'http://127.0.0.1:9/x.png', mimetype: 'image/png' } },
      { to: FRIEND, image: { base64: 'aGk=', mimetype: 'application/x-msdownload' } },
    ]) {
      const res = await send(body);
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
    }
    // 400 comes before 404 (an unknown session), as the contract orders the checks.
    expect((await send({ to: FRIEND }, '01J9ZX8K2QHV0M3T6R7P4N5W8C')).status).toBe(400);
    expect((await send({ to: FRIEND, text: 'x' }, '01J9ZX8K2QHV0M3T6R7P4N5W8C')).status).toBe(404);
    const path = `/sessions/${session.id}/chats/${FRIEND_JID}/messages`;
    for (const q of ['limit=0', 'limit=201', 'limit=abc']) {
      expect((await api('GET', `${path}?${q}`)).status).toBe(400);
    }
    const page = await api('GET', `${path}?limit=1`);
    const cursor = page.body.nextCursor as string;
    expect(cursor).not.toBe('');
    const tampered = cursor.slice(0, 5) + (cursor[5] === 'A' ? 'B' : 'A') + cursor.slice(6);
    for (const bad of [tampered, `${cursor}x`, 'eyJ0IjoxLCJyIjoxfQ']) {
      const res = await api('GET', `${path}?cursor=${encodeURIComponent(bad)}`);
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
    }
    // A cursor of one chat is not one of another.
    const other = await api(
      'GET',
      `/sessions/${session.id}/chats/6500000000@s.whatsapp.net/messages?cursor=${encodeURIComponent(cursor)}`,
    );
    expect(other.status).toBe(400);
    // A chat with nothing stored is an empty page.
    expect(
      (await api('GET', `/sessions/${session.id}/chats/6500000000@s.whatsapp.net/messages`)).body,
    ).toEqual({ items: [], nextCursor: '' });
  }, 180_000);

  it('channels: known once seen posting; unknown 404; creation 501 after 401/403/404', async () => {
    const channel = '120363000000000888@newsletter';
    await sim().followChannel(PHONE, channel);
    const posts: string[] = [];
    for (const text of ['first post', 'second post']) {
      posts.push((await sim().postToChannel(channel, text)).id);
    }
    const path = `/sessions/${session.id}/channels/${channel}/messages`;
    const listed = await waitFor(
      'posts stored',
      async () => {
        const res = await api('GET', path);
        return res.status === 200 && res.body.items.length === 2
          ? (res.body.items as Listed[])
          : null;
      },
      60_000,
    );
    expect(listed.map((m) => m.id)).toEqual([...posts].reverse());
    expect(listed[0]).toMatchObject({ chatJid: channel, text: 'second post', fromMe: false });
    const channels = await api('GET', `/sessions/${session.id}/channels`);
    expect(channels.body).toEqual({
      items: [{ jid: channel, lastMessage: expect.objectContaining({ id: posts[1] }) }],
      nextCursor: '',
    });
    // Channels are not chats.
    const chats = await api('GET', `/sessions/${session.id}/chats`);
    expect(chats.body.items.map((c: { jid: string }) => c.jid)).not.toContain(channel);
    const unknown = await api(
      'GET',
      `/sessions/${session.id}/channels/1203639@newsletter/messages`,
    );
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);

    const manageOnly = (await cliCreateApiKey({ DATABASE_URL: fleet.db.url }, ORG, 'manage'))
      .secret;
    const create = (token: string | undefined, id = session.id) =>
      call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${id}/channels`, {
        token,
        body: { name: 'News' },
      });
    expect((await create(undefined)).status).toBe(401);
    expect((await create(manageOnly)).status).toBe(403);
    expect((await create(key, '01J9ZX8K2QHV0M3T6R7P4N5W8C')).status).toBe(404);
    const res = await create(key);
    expect([res.status, res.body.error.code]).toEqual([501, 'not_implemented']);
    expect((await api('GET', `/sessions/${session.id}/channels`)).body.items).toHaveLength(1);
    // Reading stored messages needs `send`.
    expect((await api('GET', `/sessions/${session.id}/chats`, { token: manageOnly })).status).toBe(
      403,
    );
    // Another organization sees none of it.
    const stranger = await fleet.apiKey('org_messages_stranger');
    expect((await api('GET', path, { token: stranger })).status).toBe(404);
    expect(
      (
        await api('POST', `/sessions/${session.id}/messages`, {
          token: stranger,
          body: { to: FRIEND, text: 'x' },
        })
      ).status,
    ).toBe(404);
  }, 180_000);

  it('ratePerMin holds exactly across two API replicas: 100 concurrent sends against 20/min → 20 accepted', async () => {
    const [fresh] = await pairSessions(fleet, key, ['6281200000002']);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        api('POST', `/sessions/${fresh!.id}/messages`, {
          body: { to: FRIEND, text: `burst ${i}` },
          via: i % 2 === 0 ? fleet.api : second,
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(80);
    for (const r of results.filter((r) => r.status === 429)) {
      expect(r.body.error.code).toBe('rate_limited');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // A PATCH applies at once.
    await api('PATCH', `/sessions/${fresh!.id}`, { body: { ratePerMin: 21 } });
    const one = await api('POST', `/sessions/${fresh!.id}/messages`, {
      body: { to: FRIEND, text: 'one more' },
      via: second,
    });
    expect(one.status).toBe(201);
  }, 180_000);

  it('a holder SIGKILLed while the phone sends 40 messages: each is stored once (the new holder gets the rest)', async () => {
    const before = await api('GET', `/sessions/${session.id}`);
    const holder = before.body.gatewayId as string;
    expect(before.body.status).toBe('working');
    // The phone sends a stream; the holder is killed in the middle of it. Whatever the holder
    // decrypted but had not stored was never acknowledged, so the network delivers it again.
    const texts = Array.from({ length: 40 }, (_, i) => `around the crash ${i}`);
    const post = (text: string) => sim().sendMessage(FRIEND, PHONE, text);
    // Twenty in flight at the holder when it dies, twenty after.
    const first = Promise.all(texts.slice(0, 20).map(post));
    await new Promise((r) => setTimeout(r, 15));
    await fleet.gateways.get(holder)!.stop('SIGKILL');
    const results = [...(await first), ...(await Promise.all(texts.slice(20).map(post)))];
    const sent = results.map((res) => res.id);
    const path = `/sessions/${session.id}/chats/${FRIEND_JID}/messages`;
    const stored = await waitFor(
      'stored by the new holder',
      async () => {
        const found = (await listAll(path)).filter((m) => sent.includes(m.id));
        return found.length === sent.length ? found : null;
      },
      45_000,
    );
    expect(stored.map((m) => m.text).sort()).toEqual([...texts].sort());
    // Stored once each.
    expect(stored).toHaveLength(40);
    const after = await api('GET', `/sessions/${session.id}`);
    expect(after.body).toMatchObject({ status: 'working' });
    expect(after.body.gatewayId).not.toBe(holder);
    // And the new holder sends.
    const res = await api('POST', `/sessions/${session.id}/messages`, {
      body: { to: FRIEND, text: 'back again' },
    });
    expect(res.status).toBe(201);
  }, 180_000);

  it('a session that is not working refuses a send with 409', async () => {
    await api('POST', `/sessions/${session.id}:stop`);
    const res = await api('POST', `/sessions/${session.id}/messages`, {
      body: { to: FRIEND, text: 'too late' },
    });
    expect([res.status, res.body.error.code]).toEqual([409, 'failed_precondition']);
  });
});
