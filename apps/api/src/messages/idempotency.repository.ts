import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'done'; requestHash: string; response: unknown }
  | { kind: 'in_flight'; requestHash: string };

/**
 * `Idempotency-Key` of sends, per organization and session, in Postgres (so every replica
 * sees it): the first request claims the key, its result is kept `ttlMs`, and a retry gets
 * that result instead of sending again. A request that failed releases its key.
 */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async claim(
    organizationId: string,
    sessionId: string,
    key: string,
    requestHash: string,
    ttlMs: number,
  ): Promise<IdempotencyClaim> {
    // An expired key is free again.
    await this.dataSource.query(
      `DELETE FROM message_idempotency WHERE organization_id = $1 AND session_id = $2 AND key = $3
         AND created_at < now() - make_interval(secs => $4::float8 / 1000)`,
      [organizationId, sessionId, key, ttlMs],
    );
    const inserted: unknown[] = await this.dataSource.query(
      `INSERT INTO message_idempotency (organization_id, session_id, key, request_hash, created_at)
       VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING RETURNING 1`,
      [organizationId, sessionId, key, requestHash],
    );
    if (inserted.length > 0) return { kind: 'new' };
    const [row]: { request_hash: string; response: unknown }[] = await this.dataSource.query(
      `SELECT request_hash, response FROM message_idempotency
       WHERE organization_id = $1 AND session_id = $2 AND key = $3`,
      [organizationId, sessionId, key],
    );
    if (!row) return this.claim(organizationId, sessionId, key, requestHash, ttlMs);
    return row.response === null
      ? { kind: 'in_flight', requestHash: row.request_hash }
      : { kind: 'done', requestHash: row.request_hash, response: row.response };
  }

  async complete(
    organizationId: string,
    sessionId: string,
    key: string,
    response: unknown,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE message_idempotency SET response = $4
       WHERE organization_id = $1 AND session_id = $2 AND key = $3`,
      [organizationId, sessionId, key, JSON.stringify(response)],
    );
  }

  async release(organizationId: string, sessionId: string, key: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM message_idempotency
       WHERE organization_id = $1 AND session_id = $2 AND key = $3 AND response IS NULL`,
      [organizationId, sessionId, key],
    );
  }

  async purgeExpired(ttlMs: number, batch: number): Promise<number> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `DELETE FROM message_idempotency WHERE ctid IN (
         SELECT ctid FROM message_idempotency
         WHERE created_at < now() - make_interval(secs => $1::float8 / 1000)
         LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING 1`,
      [ttlMs, batch],
    );
    return affected;
  }
}
