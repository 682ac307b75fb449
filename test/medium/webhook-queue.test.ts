import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId } from '@wagw/domain';
import { createDataSource } from '@wagw/persistence';
import type { DataSource } from 'typeorm';
import {
  type IntakeEvent,
  WebhookDeliveriesRepository,
} from '../../apps/api/src/webhooks/webhook-deliveries.repository.js';
import { newOrganizationId } from '../support/session-factory.js';

/**
 * The webhook delivery queue on Postgres: who gets an event, and in which order deliveries may
 * be attempted, with concurrent claimers.
 */
describe('webhook delivery queue', () => {
  let dataSource: DataSource;
  let repo: WebhookDeliveriesRepository;
  let seq = 1_000;

  beforeAll(async () => {
    dataSource = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 4,
      applicationName: 'wagw-medium-webhooks',
    }).initialize();
    repo = new WebhookDeliveriesRepository(dataSource);
  });
  afterAll(() => dataSource.destroy());

  async function webhook(
    organizationId: string,
    options: {
      types?: string[];
      sessionId?: string | null;
      startSeq?: number;
      active?: boolean;
    } = {},
  ): Promise<string> {
    const id = newId();
    await dataSource.query(
      `INSERT INTO webhooks (id, organization_id, url, event_types, session_id, active, start_seq,
         secret, created_at, updated_at)
       VALUES ($1, $2, 'http://93.184.215.14/h', $3, $4, $5, $6, 'whsec_AAAA', now(), now())`,
      [
        id,
        organizationId,
        options.types ?? ['session.status'],
        options.sessionId ?? null,
        options.active ?? true,
        options.startSeq ?? 0,
      ],
    );
    return id;
  }

  const event = (organizationId: string, sessionId: string | null, type = 'session.status') => {
    seq += 1;
    const id = newId();
    return {
      seq,
      id,
      type,
      organizationId,
      sessionId,
      payload: JSON.stringify({ id, type, organizationId, sessionId }),
    } satisfies IntakeEvent;
  };
  const enqueue = (events: IntakeEvent[]) =>
    dataSource.transaction((manager) => repo.enqueue(manager, events));
  const queued = async (webhookId: string): Promise<string[]> =>
    (
      await dataSource.query<{ event_id: string }[]>(
        `SELECT event_id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY stream_seq`,
        [webhookId],
      )
    ).map((r) => r.event_id);

  it('queues an event for the active webhooks of its organization that want it, created before it, once', async () => {
    const org = newOrganizationId();
    const session = newId();
    const all = await webhook(org);
    const onlyQr = await webhook(org, { types: ['auth.qr'] });
    const onlySession = await webhook(org, { sessionId: session });
    const otherSession = await webhook(org, { sessionId: newId() });
    const inactive = await webhook(org, { active: false });
    const foreign = await webhook(newOrganizationId());
    const e1 = event(org, session);
    const later = await webhook(org, { startSeq: e1.seq }); // created after e1 was published
    const qr = event(org, session, 'auth.qr');

    expect(await enqueue([e1, qr])).toBe(3);
    expect(await enqueue([e1])).toBe(0); // the intake retrying a batch: nothing twice
    expect(await queued(all)).toEqual([e1.id]);
    expect(await queued(onlyQr)).toEqual([qr.id]);
    expect(await queued(onlySession)).toEqual([e1.id]);
    for (const none of [otherSession, inactive, foreign, later])
      expect(await queued(none)).toEqual([]);
    // Within one intake batch, the second delivery of a session waits behind the first.
    const [b1, b2] = [event(org, session), event(org, session)];
    await enqueue([b1, b2]);
    const waiting = await dataSource.query<{ event_id: string; blocked: boolean }[]>(
      `SELECT event_id, blocked FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY stream_seq`,
      [all],
    );
    expect(waiting.map((r) => r.blocked)).toEqual([false, true, true]);
    expect(await queued(onlySession)).toEqual([e1.id, b1.id, b2.id]);
    const e2 = event(org, session);
    await enqueue([e2]);
    expect(await queued(later)).toEqual([b1.id, b2.id, e2.id]);
  });

  it('lets concurrent claimers take only the oldest pending delivery of each (webhook, session)', async () => {
    const org = newOrganizationId();
    const hook = await webhook(org);
    const [s1, s2] = [newId(), newId()];
    const events = [
      event(org, s1),
      event(org, s2),
      event(org, s1),
      event(org, null),
      event(org, s2),
    ];
    await enqueue(events);

    const claims = (await Promise.all([1, 2, 3].map(() => repo.claim(10, 60_000)))).flat();
    const mine = claims.filter((c) => c.webhookId === hook);
    // One head per key: s1's first, s2's first, and the organization-wide one; nothing twice.
    expect(mine.map((c) => JSON.parse(c.payload).id).sort()).toEqual(
      [events[0]!.id, events[1]!.id, events[3]!.id].sort(),
    );
    expect(new Set(mine.map((c) => c.id)).size).toBe(3);
    expect((await repo.claim(10, 60_000)).filter((c) => c.webhookId === hook)).toEqual([]);

    // s1's head delivered: s1's next is due, s2's still waits behind its head.
    const s1Head = mine.find((c) => JSON.parse(c.payload).id === events[0]!.id)!;
    const result = { statusCode: 200, retryAfterMs: null, error: null, latencyMs: 3 };
    expect(await repo.record(s1Head, result, 'delivered')).toBe(true);
    expect(await repo.record(s1Head, result, 'delivered')).toBe(false); // its claim is spent
    const next = (await repo.claim(10, 60_000)).filter((c) => c.webhookId === hook);
    expect(next.map((c) => JSON.parse(c.payload).id)).toEqual([events[2]!.id]);
    expect(next[0]!.attempts).toBe(1);
  });

  it('a retry waits for its time, a dead letter unblocks its key and can be queued again', async () => {
    const org = newOrganizationId();
    const hook = await webhook(org);
    const session = newId();
    const [first, second] = [event(org, session), event(org, session)];
    await enqueue([first, second]);
    const failure = { statusCode: 503, retryAfterMs: null, error: 'HTTP 503', latencyMs: 5 };

    let [head] = (await repo.claim(10, 60_000)).filter((c) => c.webhookId === hook);
    await repo.record(head!, failure, { retryInMs: 60_000 });
    expect((await repo.claim(10, 60_000)).filter((c) => c.webhookId === hook)).toEqual([]);

    await dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = $1`, [
      head!.id,
    ]);
    [head] = (await repo.claim(10, 60_000)).filter((c) => c.webhookId === hook);
    expect(head!.attempts).toBe(2);
    await repo.record(head!, failure, 'failed');
    const [unblocked] = (await repo.claim(10, 60_000)).filter((c) => c.webhookId === hook);
    expect(JSON.parse(unblocked!.payload).id).toBe(second.id);

    // The intake queued a delivery behind a head that finished meanwhile: the sweep frees it.
    const stray = event(org, newId());
    await enqueue([stray]);
    await dataSource.query(`UPDATE webhook_deliveries SET blocked = true WHERE event_id = $1`, [
      stray.id,
    ]);
    const claimedNow = async () =>
      (await repo.claim(10, 60_000)).filter((c) => JSON.parse(c.payload).id === stray.id);
    expect(await claimedNow()).toEqual([]);
    expect(await repo.unblockOrphans()).toBeGreaterThanOrEqual(1);
    expect(await claimedNow()).toHaveLength(1);

    const again = await repo.requeue(org, hook, head!.id);
    expect(again).toMatchObject({ status: 'pending', attempts: 0, lastStatusCode: 503 });
    expect(await repo.requeue(org, hook, head!.id)).toBeNull(); // pending: not again
    expect(await repo.requeue(newOrganizationId(), hook, head!.id)).toBeNull();
  });
});
