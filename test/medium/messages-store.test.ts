import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId } from '@wagw/domain';
import { createDataSource } from '@wagw/persistence';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import {
  type MessageToStore,
  MessagesRepository,
  type PagePosition,
} from '../../apps/api/src/messages/messages.repository.js';
import { SendRateLimiter } from '../../apps/api/src/messages/send-rate.limiter.js';
import { newOrganizationId, newSession } from '../support/session-factory.js';

/** Stored messages against real Postgres: idempotent upserts, receipts, pages, retention, rates. */

const message = (
  org: string,
  session: string,
  over: Partial<MessageToStore> = {},
): MessageToStore => ({
  organizationId: org,
  sessionId: session,
  id: newId(),
  chatJid: '6591234567@s.whatsapp.net',
  senderJid: '6591234567@s.whatsapp.net',
  fromMe: false,
  timestamp: 1_700_000_000_000,
  type: 'text',
  text: 'hello',
  media: null,
  replyTo: null,
  status: 'received',
  raw: { any: 'payload' },
  ...over,
});

describe('MessagesRepository', () => {
  let ds: DataSource;
  let repo: MessagesRepository;

  beforeAll(async () => {
    ds = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 8,
      applicationName: 'wagw-messages',
    }).initialize();
    repo = new MessagesRepository(ds);
  });
  afterAll(() => ds.destroy());

  const count = async (session: string): Promise<number> => {
    const [row] = await ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM messages WHERE session_id = $1`,
      [session],
    );
    return row!.n;
  };

  it('stores a message once however often it is stored (redelivery), with its raw payload', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const m = message(org, session);
    await repo.store([m, m]);
    await repo.store([m]);
    await Promise.all([repo.store([m]), repo.store([m])]);
    expect(await count(session)).toBe(1);
    const [row] = await ds.query<{ raw: unknown; organization_id: string }[]>(
      `SELECT raw, organization_id FROM messages WHERE session_id = $1`,
      [session],
    );
    expect(row).toEqual({ raw: { any: 'payload' }, organization_id: org });
    const page = await repo.page(org, session, m.chatJid, 10, null);
    expect(page.items.map((i) => i.id)).toEqual([m.id]);
  });

  it('lists messages of the same second in the order they arrived, whatever their ids', async () => {
    // WhatsApp stamps messages in seconds: a burst shares one timestamp, and a batch of the fold
    // holds several. Ids are random, so they must not decide the order of equal timestamps.
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const ids = ['3EB0C', '3EB0A', '3EB0F', '3EB0B', '3EB0E', '3EB0D'].map((p) => `${p}${newId()}`);
    const burst = ids.map((id) => message(org, session, { id, timestamp: 1_700_000_100_000 }));
    await repo.store(burst.slice(0, 2));
    await repo.store(burst.slice(2));
    const page = await repo.page(org, session, burst[0]!.chatJid, 10, null);
    expect(page.items.map((i) => i.id)).toEqual([...ids].reverse());
    const [chat] = await repo.chats(org, session, 'chat', 10, null).then((p) => p.items);
    expect(chat?.lastMessage?.id).toBe(ids.at(-1));
  });

  it('stores nothing for a session outside the event organization', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    await repo.store([message(newOrganizationId(), session)]);
    expect(await count(session)).toBe(0);
  });

  it('receipts move a sent message forward, never back; one that comes first leaves a stub the message fills', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const sent = message(org, session, { fromMe: true, status: 'sent', text: 'out' });
    await repo.store([sent]);
    const ack = (status: 'delivered' | 'read', id = sent.id) => ({
      organizationId: org,
      sessionId: session,
      messageId: id,
      chatJid: sent.chatJid,
      status,
      timestamp: sent.timestamp + 5,
    });
    await repo.applyAcks([ack('read')]);
    await repo.applyAcks([ack('delivered')]);
    await repo.store([sent]);
    let [first] = (await repo.page(org, session, sent.chatJid, 10, null)).items;
    expect(first).toMatchObject({ id: sent.id, status: 'read', text: 'out', type: 'text' });

    const early = message(org, session, { fromMe: true, status: 'sent', text: 'later' });
    await repo.applyAcks([ack('delivered', early.id)]);
    await repo.store([early]);
    const items = (await repo.page(org, session, sent.chatJid, 10, null)).items;
    first = items.find((i) => i.id === early.id);
    expect(first).toMatchObject({ status: 'delivered', text: 'later', type: 'text' });
    expect(items).toHaveLength(2);
  });

  it('lists chats with their last message, and knows a channel once it posted', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const a = message(org, session, { chatJid: 'a@s.whatsapp.net', timestamp: 10 });
    const a2 = message(org, session, { chatJid: 'a@s.whatsapp.net', timestamp: 30 });
    const b = message(org, session, { chatJid: 'b@s.whatsapp.net', timestamp: 20 });
    const post = message(org, session, { chatJid: '1203@newsletter', timestamp: 40 });
    await repo.store([a, b]);
    await repo.store([a2, post]);
    await repo.store([a]); // an older message again changes no chat's last message
    const chats = await repo.chats(org, session, 'chat', 10, null);
    expect(chats.items.map((c) => [c.jid, c.lastMessage?.id])).toEqual([
      ['a@s.whatsapp.net', a2.id],
      ['b@s.whatsapp.net', b.id],
    ]);
    const page1 = await repo.chats(org, session, 'chat', 1, null);
    const page2 = await repo.chats(org, session, 'chat', 1, page1.next);
    expect([...page1.items, ...page2.items].map((c) => c.jid)).toEqual([
      'a@s.whatsapp.net',
      'b@s.whatsapp.net',
    ]);
    expect(page2.next).toBeNull();
    expect(await repo.knows(org, session, '1203@newsletter', 'channel')).toBe(true);
    expect(await repo.knows(org, session, '9999@newsletter', 'channel')).toBe(false);
    expect(await repo.knows(newOrganizationId(), session, '1203@newsletter', 'channel')).toBe(
      false,
    );
  });

  it('pages read while messages are inserted never skip or repeat an item', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Initial messages (timestamps collide on purpose), page sizes, and what arrives
        // between two page reads (newer and older timestamps alike).
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 0, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 5 }), { maxLength: 20 }),
        async (initial, limits, arrivals) => {
          const org = newOrganizationId();
          const session = await newSession(ds, org);
          const chat = 'prop@s.whatsapp.net';
          const before = initial.map((t) => message(org, session, { chatJid: chat, timestamp: t }));
          if (before.length > 0) await repo.store(before);
          const seen: string[] = [];
          let after: PagePosition | null = null;
          for (let i = 0; ; i++) {
            const page = await repo.page(org, session, chat, limits[i % limits.length]!, after);
            seen.push(...page.items.map((m) => m.id));
            // Newest first within the page and across pages.
            const stamps = page.items.map((m) => m.timestamp);
            expect([...stamps].sort((x, y) => y - x)).toEqual(stamps);
            const arriving = (arrivals[i] ?? []).map((t) =>
              message(org, session, { chatJid: chat, timestamp: t }),
            );
            // Concurrently with the next read, as a gateway's events would land.
            const [next] = await Promise.all([
              Promise.resolve(page.next),
              arriving.length > 0 ? repo.store(arriving) : Promise.resolve(0),
            ]);
            if (next === null) break;
            after = next;
          }
          expect(new Set(seen).size).toBe(seen.length);
          for (const m of before) expect(seen).toContain(m.id);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("reads a chat's first page through its own index, not past newer messages of other chats", async () => {
    // A chat holding most of the table whose newest message is older than other chats' ones:
    // Postgres once chose the timestamp (retention) index for it and filtered its way through
    // every newer row of every other chat before the first match (the page then cost O(table)).
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const busy = '6590000001@s.whatsapp.net';
    await ds.query(
      `INSERT INTO messages (organization_id, session_id, chat_jid, id, from_me, sender_jid,
         timestamp, type, text, status)
       SELECT $1, $2, $3, 'OLD' || g, false, $3, 1600000000000 + g * 1000, 'text', 'm', 'received'
       FROM generate_series(1, 30000) g`,
      [org, session, busy],
    );
    const other = await newSession(ds, org);
    await ds.query(
      `INSERT INTO messages (organization_id, session_id, chat_jid, id, from_me, sender_jid,
         timestamp, type, text, status)
       SELECT $1, $2, (g % 50) || '@s.whatsapp.net', 'NEW' || g, false, null,
              1800000000000 + g, 'text', 'm', 'received'
       FROM generate_series(1, 3000) g`,
      [org, other],
    );
    await ds.query('ANALYZE messages');
    const issued: { sql: string; params: unknown[] }[] = [];
    const spy = new MessagesRepository({
      query: (sql: string, params: unknown[]) => {
        issued.push({ sql, params });
        return ds.query(sql, params);
      },
    } as unknown as DataSource);
    const page = await spy.page(org, session, busy, 50, null);
    expect(page.items[0]!.id).toBe('OLD30000');
    const [explained] = await ds.query<{ 'QUERY PLAN': unknown }[]>(
      `EXPLAIN (FORMAT JSON) ${issued[0]!.sql}`,
      issued[0]!.params,
    );
    const plan = explained!['QUERY PLAN'];
    const indexes = [...JSON.stringify(plan).matchAll(/"Index Name":"([^"]+)"/g)].map((m) => m[1]);
    expect(indexes).toEqual(['messages_page_idx']);
  });

  it('purges only what is older than the retention, in batches', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const old = Array.from({ length: 25 }, (_, i) =>
      message(org, session, { timestamp: 1_000 + i }),
    );
    const fresh = message(org, session, { timestamp: Date.now() });
    await repo.store([...old, fresh]);
    // Other tests' rows are old too: purge to exhaustion, as the worker does.
    let purged = 0;
    for (;;) {
      const n = await repo.purgeOlderThan(Date.now() - 60_000, 10);
      purged += n;
      if (n < 10) break;
    }
    expect(purged).toBeGreaterThanOrEqual(25);
    expect(await count(session)).toBe(1);
  });
});

describe('SendRateLimiter', () => {
  let ds: DataSource;
  let rates: SendRateLimiter;

  beforeAll(async () => {
    ds = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 10,
      applicationName: 'wagw-rates',
    }).initialize();
    rates = new SendRateLimiter(ds);
  });
  afterAll(() => ds.destroy());

  it('accepts exactly ratePerMin of 100 concurrent sends, with a Retry-After within the minute', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const decisions = await Promise.all(
      Array.from({ length: 100 }, () => rates.take(org, session)),
    );
    expect(decisions.filter((d) => d?.ok)).toHaveLength(20);
    for (const d of decisions.filter((d) => d && !d.ok)) {
      expect(d).toMatchObject({ window: 'minute', limit: 20 });
      if (d && !d.ok) expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      if (d && !d.ok) expect(d.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  });

  it('stays exact across replicas: 4 limiters (each its own queue) take 100 at once → 20', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const replicas = Array.from({ length: 4 }, () => new SendRateLimiter(ds));
    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, i) => replicas[i % 4]!.take(org, session)),
    );
    expect(decisions.filter((d) => d?.ok)).toHaveLength(20);
    const [slots] = await ds.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM message_send_slots WHERE session_id = $1',
      [session],
    );
    expect(slots?.n).toBe(20);
  });

  it('gives a refused send its slot back, applies a new rate at once, and counts the hour', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    await ds.query(`UPDATE sessions SET rate_per_min = 2, rate_per_hour = 3 WHERE id = $1`, [
      session,
    ]);
    const first = await rates.take(org, session);
    const second = await rates.take(org, session);
    expect((await rates.take(org, session))?.ok).toBe(false);
    if (second?.ok) await rates.giveBack(session, second.slotId);
    expect((await rates.take(org, session))?.ok).toBe(true);
    await ds.query(`UPDATE sessions SET rate_per_min = 10 WHERE id = $1`, [session]);
    expect((await rates.take(org, session))?.ok).toBe(true);
    const hourly = await rates.take(org, session);
    expect(hourly).toMatchObject({ ok: false, window: 'hour', limit: 3 });
    expect(first?.ok).toBe(true);
    expect(await rates.take(newOrganizationId(), session)).toBeNull();
  });
});
