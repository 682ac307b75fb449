import { Inject, Injectable } from '@nestjs/common';
import { isId, newId } from '@wagw/domain';
import { WebhookDeliveryEntity, type WebhookDeliveryStatus } from '@wagw/persistence';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { GroupWriter } from '../common/group-writer.js';
import { entityFromRaw } from '../common/raw-entity.js';
import type { AttemptResult } from './webhook-retry.policy.js';

/** An event taken off the stream, ready to be queued for the webhooks that want it. */
export interface IntakeEvent {
  seq: number;
  id: string;
  type: string;
  organizationId: string;
  sessionId: string | null;
  /** The public event as JSON: the exact body every webhook receives. */
  payload: string;
}

/** A delivery this replica may attempt now: it holds the claim until `claimedUntil`. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  organizationId: string;
  payload: string;
  /** This attempt's number (1 for the first): also the claim's fencing token. */
  attempts: number;
  url: string;
  /** The secrets that sign it: the current one, and the previous one during its grace period. */
  secrets: string[];
  /** The webhook has been failing: a success must clear that. */
  failing: boolean;
}

export interface DeliveryPage {
  items: WebhookDeliveryEntity[];
  /** The last item's id, when there may be more. */
  next: string | null;
}

/** A webhook the API just switched off because it kept failing. */
export interface DisabledWebhook {
  id: string;
  organizationId: string;
  url: string;
  failingSince: Date;
}

interface AttemptRecord {
  delivery: ClaimedDelivery;
  result: AttemptResult;
  outcome: 'delivered' | { retryInMs: number } | 'failed';
}

/** What an UPDATE answers through TypeORM: [rows, count]. */
type Updated = [Record<string, unknown>[], number];

/**
 * Deliveries as a queue in Postgres, shared by every API replica: at most one attempt of a
 * delivery runs at a time (a claim with a deadline, fenced by the attempt number), and only
 * the oldest pending delivery of a (webhook, session) is ever attempted, so a receiver sees
 * one session's events in stream order even while earlier ones are being retried.
 */
@Injectable()
export class WebhookDeliveriesRepository {
  private readonly repo: Repository<WebhookDeliveryEntity>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(WebhookDeliveryEntity);
  }

  /**
   * Queues a delivery per (event, matching active webhook of its organization created before
   * the event), in the intake's transaction. An event queued before for a webhook is not
   * queued again.
   */
  async enqueue(manager: EntityManager, events: readonly IntakeEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const matches: { webhook_id: string; i: string }[] = await manager.query(
      `SELECT w.id AS webhook_id, e.i
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
                WITH ORDINALITY AS e(org, type, session_id, seq, i)
         JOIN webhooks w ON w.organization_id = e.org AND w.active AND e.seq > w.start_seq
          AND e.type = ANY (w.event_types)
          AND (w.session_id IS NULL OR w.session_id = e.session_id)`,
      [
        events.map((e) => e.organizationId),
        events.map((e) => e.type),
        events.map((e) => e.sessionId),
        events.map((e) => e.seq),
      ],
    );
    if (matches.length === 0) return 0;
    const rows = matches.map((m) => ({ webhookId: m.webhook_id, event: events[Number(m.i) - 1]! }));
    const column = <T>(pick: (r: (typeof rows)[number]) => T): T[] => rows.map(pick);
    const inserted: unknown[] = await manager.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event_id, event_type,
         session_id, order_key, stream_seq, payload, status, attempts, blocked, next_attempt_at,
         created_at)
       SELECT d.id, d.webhook_id, d.org, d.event_id, d.type, d.session_id, d.order_key, d.seq,
              d.payload, 'pending', 0,
              -- behind an earlier one of this batch, or one already queued: not a head
              row_number() OVER (PARTITION BY d.webhook_id, d.order_key ORDER BY d.seq) > 1
                OR EXISTS (SELECT 1 FROM webhook_deliveries p
                            WHERE p.webhook_id = d.webhook_id AND p.order_key = d.order_key
                              AND p.status = 'pending'),
              now(), now()
         FROM (SELECT *, COALESCE(session_id, '') AS order_key
                 FROM unnest($1::bpchar[], $2::bpchar[], $3::text[], $4::text[], $5::text[],
                             $6::text[], $7::bigint[], $8::text[])
                   AS u(id, webhook_id, org, event_id, type, session_id, seq, payload)) d
       ON CONFLICT (webhook_id, event_id) DO NOTHING
       RETURNING id`,
      [
        column(() => newId()),
        column((r) => r.webhookId),
        column((r) => r.event.organizationId),
        column((r) => r.event.id),
        column((r) => r.event.type),
        column((r) => r.event.sessionId),
        column((r) => r.event.seq),
        column((r) => r.event.payload),
      ],
    );
    return inserted.length;
  }

  /**
   * Claims up to `limit` deliveries that are due, of active webhooks, and first in line for
   * their (webhook, session), until `claimMs` from now; counts the attempt.
   */
  async claim(limit: number, claimMs: number): Promise<ClaimedDelivery[]> {
    const [rows]: Updated = await this.dataSource.query(
      `WITH picked AS (
         SELECT c.id FROM webhook_deliveries c
           JOIN webhooks w ON w.id = c.webhook_id AND w.active
          WHERE c.status = 'pending' AND NOT c.blocked AND c.next_attempt_at <= now()
            AND (c.claimed_until IS NULL OR c.claimed_until < now())
            AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries p
               WHERE p.webhook_id = c.webhook_id AND p.order_key = c.order_key
                 AND p.status = 'pending' AND p.stream_seq < c.stream_seq)
          ORDER BY c.next_attempt_at
          LIMIT $1
          FOR UPDATE OF c SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET claimed_until = now() + $2::bigint * interval '1 millisecond',
              attempts = d.attempts + 1, last_attempt_at = now()
         FROM picked, webhooks w
        WHERE d.id = picked.id AND w.id = d.webhook_id
       RETURNING d.id, d.webhook_id, d.organization_id, d.payload, d.attempts, w.url, w.secret,
                 CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END
                   AS previous_secret,
                 w.failing_since IS NOT NULL AS failing`,
      [limit, claimMs],
    );
    return rows.map((r) => ({
      id: r.id as string,
      webhookId: r.webhook_id as string,
      organizationId: r.organization_id as string,
      payload: r.payload as string,
      attempts: r.attempts as number,
      url: r.url as string,
      secrets: [r.secret as string, ...(r.previous_secret ? [r.previous_secret as string] : [])],
      failing: r.failing === true,
    }));
  }

  /**
   * Records an attempt: delivered, retried after `retryInMs`, or a dead letter. Only while the
   * claim is still this attempt's; returns false when it was not (the claim ran out and another
   * attempt took over). Attempts ending together are recorded by one statement.
   */
  record(
    delivery: ClaimedDelivery,
    result: AttemptResult,
    outcome: 'delivered' | { retryInMs: number } | 'failed',
  ): Promise<boolean> {
    return this.records.submit({ delivery, result, outcome });
  }

  private readonly records = new GroupWriter<AttemptRecord, boolean>(async (items) => {
    const column = <T>(pick: (r: AttemptRecord) => T): T[] => items.map(pick);
    const status = (r: AttemptRecord): WebhookDeliveryStatus =>
      r.outcome === 'delivered' ? 'delivered' : r.outcome === 'failed' ? 'failed' : 'pending';
    // One statement: record the attempts, then let the next delivery of each (webhook,
    // session) whose head is done come forward. (Its sub-queries see the rows as they were
    // before the statement: the finished heads are left out by id.)
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH recorded AS (
         UPDATE webhook_deliveries d SET
           status = v.status, claimed_until = NULL,
           next_attempt_at = CASE WHEN v.status = 'pending'
             THEN now() + v.retry_ms * interval '1 millisecond' ELSE d.next_attempt_at END,
           delivered_at = CASE WHEN v.status = 'delivered' THEN now() END,
           last_status_code = v.code, last_error = v.error, last_latency_ms = v.latency
         FROM unnest($1::bpchar[], $2::int[], $3::text[], $4::bigint[], $5::int[], $6::text[],
                     $7::int[]) AS v(id, attempts, status, retry_ms, code, error, latency)
         WHERE d.id = v.id AND d.attempts = v.attempts AND d.status = 'pending'
         RETURNING d.id, d.webhook_id, d.order_key, d.status),
       done AS (SELECT id, webhook_id, order_key FROM recorded WHERE status <> 'pending'),
       heads AS (
         SELECT DISTINCT ON (p.webhook_id, p.order_key) p.id, p.blocked
           FROM webhook_deliveries p
           JOIN (SELECT DISTINCT webhook_id, order_key FROM done) k
             ON p.webhook_id = k.webhook_id AND p.order_key = k.order_key
          WHERE p.status = 'pending' AND p.id NOT IN (SELECT id FROM done)
          ORDER BY p.webhook_id, p.order_key, p.stream_seq),
       unblocked AS (
         UPDATE webhook_deliveries u SET blocked = false, next_attempt_at = now()
           FROM heads WHERE u.id = heads.id AND heads.blocked
         RETURNING u.id)
       SELECT id FROM recorded`,
      [
        column((r) => r.delivery.id),
        column((r) => r.delivery.attempts),
        column(status),
        column((r) => (typeof r.outcome === 'object' ? r.outcome.retryInMs : 0)),
        column((r) => r.result.statusCode),
        column((r) => r.result.error?.slice(0, 500) ?? null),
        column((r) => r.result.latencyMs),
      ],
    );
    const recorded = new Set(rows.map((r) => r.id));
    return items.map((r) => recorded.has(r.delivery.id));
  });

  /**
   * Brings forward the deliveries left waiting with nothing before them (the intake queued one
   * behind a head that finished meanwhile). Cheap insurance: a sweep of the pending ones.
   */
  async unblockOrphans(): Promise<number> {
    const [, count]: Updated = await this.dataSource.query(
      `UPDATE webhook_deliveries u SET blocked = false, next_attempt_at = now()
         FROM (SELECT DISTINCT ON (webhook_id, order_key) id, blocked
                 FROM webhook_deliveries WHERE status = 'pending'
                ORDER BY webhook_id, order_key, stream_seq) h
        WHERE u.id = h.id AND h.blocked`,
    );
    return count;
  }

  /** A delivery succeeded: the webhook is no longer failing. */
  async markHealthy(webhookId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`,
      [webhookId],
    );
  }

  /**
   * An attempt failed: the webhook is failing since its first failure after the last success;
   * past `disableAfterMs` of that it is switched off. Returns it when this call switched it off.
   */
  async markFailing(webhookId: string, disableAfterMs: number): Promise<DisabledWebhook | null> {
    const [rows]: Updated = await this.dataSource.query(
      `WITH before AS (
         SELECT id, active,
                COALESCE(failing_since < now() - $2::bigint * interval '1 millisecond', false)
                  AS expired
           FROM webhooks WHERE id = $1 FOR UPDATE)
       UPDATE webhooks w SET
         failing_since = COALESCE(w.failing_since, now()),
         active = w.active AND NOT before.expired,
         disabled_reason = CASE WHEN w.active AND before.expired THEN 'failing'
                                ELSE w.disabled_reason END,
         updated_at = CASE WHEN w.active AND before.expired THEN now() ELSE w.updated_at END
         FROM before
        WHERE w.id = before.id
       RETURNING before.active AS was_active, w.active, w.organization_id, w.url, w.failing_since`,
      [webhookId, disableAfterMs],
    );
    const row = rows[0];
    if (!row || !row.was_active || row.active) return null;
    return {
      id: webhookId,
      organizationId: row.organization_id as string,
      url: row.url as string,
      failingSince: row.failing_since as Date,
    };
  }

  /** Newest first; `status` filters; `after` is the last id of the previous page. */
  async list(
    organizationId: string,
    webhookId: string,
    options: { limit: number; after: string | null; status: WebhookDeliveryStatus | undefined },
  ): Promise<DeliveryPage> {
    const query = this.repo
      .createQueryBuilder('d')
      .where('d.organization_id = :organizationId AND d.webhook_id = :webhookId', {
        organizationId,
        webhookId,
      })
      .orderBy('d.id', 'DESC')
      .take(options.limit + 1);
    if (options.after) query.andWhere('d.id < :after', { after: options.after });
    if (options.status) query.andWhere('d.status = :status', { status: options.status });
    const rows = await query.getMany();
    const more = rows.length > options.limit;
    const items = more ? rows.slice(0, options.limit) : rows;
    return { items, next: more ? (items.at(-1)?.id ?? null) : null };
  }

  async findOne(
    organizationId: string,
    webhookId: string,
    id: string,
  ): Promise<WebhookDeliveryEntity | null> {
    if (!isId(id)) return null;
    return this.repo.findOneBy({ organizationId, webhookId, id });
  }

  /**
   * Puts a dead letter (or a delivered one, to send it again) back in the queue with a fresh
   * attempt budget. Returns null when it is pending already (or not there).
   */
  async requeue(
    organizationId: string,
    webhookId: string,
    id: string,
  ): Promise<WebhookDeliveryEntity | null> {
    if (!isId(id)) return null;
    // The row as this statement left it: a worker may claim it the moment it commits.
    const [rows]: Updated = await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(),
              blocked = false, claimed_until = NULL, delivered_at = NULL
        WHERE organization_id = $1 AND webhook_id = $2 AND id = $3 AND status <> 'pending'
       RETURNING *`,
      [organizationId, webhookId, id],
    );
    return rows[0] ? entityFromRaw(this.repo, rows[0]) : null;
  }

  /** Forgets delivered deliveries and dead letters older than the retention, a batch at a time. */
  async purge(retentionMs: number, batch = 5_000): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries
          WHERE status <> 'pending' AND created_at < now() - $1::bigint * interval '1 millisecond'
          LIMIT $2)`,
      [retentionMs, batch],
    );
    return count;
  }
}
