import { LeaseLostError, type WaAuthStore } from '@wagw/whatsapp';
import type { DataSource } from 'typeorm';
import { leaseFenceSql } from '../leases/lease.fence.js';
import type { LeaseFence } from '../leases/lease.types.js';
import type { AuthStateCipher } from './auth-state.cipher.js';

/** `$1` session id, `$2` owner id, `$3` epoch in every fenced statement below. */
const FENCE = `fence AS MATERIALIZED (${leaseFenceSql({ sessionId: '$1', ownerId: '$2', epoch: '$3' })})`;
const HELD = 'EXISTS (SELECT 1 FROM fence)';

/**
 * WhatsApp auth state of ONE session in Postgres, encrypted at rest.
 *
 * Every write is a single statement whose first step is the lease fence (see `leaseFenceSql`):
 * it takes effect only while this process holds the session's live lease at its epoch, and
 * otherwise changes nothing and throws `LeaseLostError`. Being single statements, the writes are
 * atomic without an explicit transaction, cost one round trip, and never hold a transaction open
 * across round trips (which also keeps them safe on PGlite).
 */
export class PostgresAuthStore implements WaAuthStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: AuthStateCipher,
    private readonly sessionId: string,
    private readonly fence: () => LeaseFence,
    /**
     * The creds ciphertext as the claim read it (one statement for a whole claim batch instead
     * of a query per session when a thousand sessions fail over); served once, then re-read.
     */
    private prefetched?: Buffer | null,
  ) {}

  async readCreds(): Promise<string | null> {
    if (this.prefetched !== undefined) {
      const data = this.prefetched;
      this.prefetched = undefined;
      return data ? this.cipher.decrypt(data, { sessionId: this.sessionId, kind: 'creds' }) : null;
    }
    const rows = await this.dataSource.query<{ data: Buffer }[]>(
      'SELECT data FROM wa_auth_creds WHERE session_id = $1::bpchar',
      [this.sessionId],
    );
    const row = rows[0];
    return row ? this.cipher.decrypt(row.data, { sessionId: this.sessionId, kind: 'creds' }) : null;
  }

  async writeCreds(creds: string): Promise<void> {
    const data = this.cipher.encrypt(creds, { sessionId: this.sessionId, kind: 'creds' });
    await this.fenced(
      `WITH ${FENCE}, written AS (
         INSERT INTO wa_auth_creds (session_id, data, updated_at)
         SELECT $1::bpchar, $4::bytea, now() WHERE ${HELD}
         ON CONFLICT (session_id) DO UPDATE SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
       )
       SELECT ${HELD} AS held`,
      [data],
    );
  }

  async readKeys(type: string, ids: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (ids.length === 0) return found;
    const rows = await this.dataSource.query<{ key_id: string; data: Buffer }[]>(
      `SELECT key_id, data FROM wa_auth_keys
       WHERE session_id = $1::bpchar AND type = $2 AND key_id = ANY($3::text[])`,
      [this.sessionId, type, [...ids]],
    );
    for (const row of rows) {
      const aad = { sessionId: this.sessionId, kind: 'key', type, id: row.key_id } as const;
      found.set(row.key_id, this.cipher.decrypt(row.data, aad));
    }
    return found;
  }

  /**
   * The whole batch in one statement: upserts as one multi-row `INSERT ... ON CONFLICT` over
   * unnest'ed arrays, deletions (`value: null`) as one `DELETE ... USING unnest`. When a batch
   * names the same key twice, the last entry wins (as applying them in order would).
   */
  async writeKeys(
    entries: readonly { type: string; id: string; value: string | null }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    const last = new Map<string, { type: string; id: string; value: string | null }>();
    // JSON of the pair: no separator character can make two different pairs collide.
    for (const entry of entries) last.set(JSON.stringify([entry.type, entry.id]), entry);
    const upserts = { types: [] as string[], ids: [] as string[], data: [] as Buffer[] };
    const deletes = { types: [] as string[], ids: [] as string[] };
    // One key order for every batch, so two concurrent batches touching the same keys lock them
    // in the same order and queue instead of deadlocking.
    const ordered = [...last.values()].sort((a, b) =>
      a.type === b.type ? compare(a.id, b.id) : compare(a.type, b.type),
    );
    for (const { type, id, value } of ordered) {
      if (value === null) {
        deletes.types.push(type);
        deletes.ids.push(id);
      } else {
        upserts.types.push(type);
        upserts.ids.push(id);
        upserts.data.push(
          this.cipher.encrypt(value, { sessionId: this.sessionId, kind: 'key', type, id }),
        );
      }
    }
    await this.fenced(
      `WITH ${FENCE}, upserted AS (
         INSERT INTO wa_auth_keys (session_id, type, key_id, data)
         SELECT $1::bpchar, u.type, u.key_id, u.data
         FROM unnest($4::text[], $5::text[], $6::bytea[]) AS u(type, key_id, data)
         WHERE ${HELD}
         ON CONFLICT (session_id, type, key_id) DO UPDATE SET data = EXCLUDED.data
       ), deleted AS (
         DELETE FROM wa_auth_keys k
         USING unnest($7::text[], $8::text[]) AS d(type, key_id)
         WHERE ${HELD} AND k.session_id = $1::bpchar AND k.type = d.type AND k.key_id = d.key_id
       )
       SELECT ${HELD} AS held`,
      [upserts.types, upserts.ids, upserts.data, deletes.types, deletes.ids],
    );
  }

  async clear(): Promise<void> {
    await this.fenced(
      `WITH ${FENCE}, creds AS (
         DELETE FROM wa_auth_creds WHERE session_id = $1::bpchar AND ${HELD}
       ), keys AS (
         DELETE FROM wa_auth_keys WHERE session_id = $1::bpchar AND ${HELD}
       )
       SELECT ${HELD} AS held`,
      [],
    );
  }

  /** Runs a statement built on `FENCE`; `extra` are its parameters from `$4` on. */
  private async fenced(sql: string, extra: unknown[]): Promise<void> {
    const { ownerId, epoch } = this.fence();
    const rows = await this.dataSource.query<{ held: boolean }[]>(sql, [
      this.sessionId,
      ownerId,
      String(epoch),
      ...extra,
    ]);
    if (rows[0]?.held !== true) throw new LeaseLostError(this.sessionId);
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
