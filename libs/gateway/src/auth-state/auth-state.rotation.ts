import type { DataSource } from 'typeorm';
import type { AuthStateCipher, AuthStateRow } from './auth-state.cipher.js';

export interface ReEncryptResult {
  /** Rows rewritten under the current key. */
  creds: number;
  keys: number;
  /** Rows a gateway rewrote between our read and our write: theirs is kept. */
  changedMeanwhile: number;
  /** Rows still under another key at the end (written meanwhile by a process with the old keyring). */
  remaining: number;
}

const MAX_PASSES = 5;

/**
 * Re-encrypts every WhatsApp auth-state row that is not under the cipher's current key, while
 * the fleet runs. Rows are read in batches in key order, re-encrypted, and written back only if
 * they still hold exactly what was read (compare-and-swap on the ciphertext), so a gateway's
 * concurrent write is never replaced by older content. Passes repeat while they find work.
 *
 * Rotation: (1) give every process `AUTH_STATE_KEYS=<new>,<old>` (so new writes use the new
 * key), (2) run this, until `remaining` is 0, (3) drop the old key.
 */
export async function reEncryptAuthState(
  dataSource: DataSource,
  cipher: AuthStateCipher,
  options: { batchSize?: number } = {},
): Promise<ReEncryptResult> {
  const batchSize = options.batchSize ?? 500;
  const result: ReEncryptResult = { creds: 0, keys: 0, changedMeanwhile: 0, remaining: 0 };
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const before = result.creds + result.keys + result.changedMeanwhile;
    await reEncryptCreds(dataSource, cipher, batchSize, result);
    await reEncryptKeys(dataSource, cipher, batchSize, result);
    if (result.creds + result.keys + result.changedMeanwhile === before) break;
  }
  result.remaining = await countStale(dataSource, cipher);
  return result;
}

async function reEncryptCreds(
  dataSource: DataSource,
  cipher: AuthStateCipher,
  batchSize: number,
  result: ReEncryptResult,
): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await dataSource.query<{ session_id: string; data: Buffer }[]>(
      `SELECT session_id, data FROM wa_auth_creds WHERE session_id > $1::bpchar
       ORDER BY session_id LIMIT $2`,
      [after, batchSize],
    );
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.session_id;
    const stale = rows.filter((r) => !cipher.isCurrent(r.data));
    if (stale.length === 0) continue;
    const fresh = stale.map((r) =>
      rewrap(cipher, r.data, { sessionId: r.session_id, kind: 'creds' }),
    );
    const updated = await dataSource.query<{ n: number }[]>(
      `WITH u AS (
         UPDATE wa_auth_creds c SET data = u.fresh
         FROM unnest($1::bpchar[], $2::bytea[], $3::bytea[]) AS u(session_id, old, fresh)
         WHERE c.session_id = u.session_id AND c.data = u.old
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM u`,
      [stale.map((r) => r.session_id), stale.map((r) => r.data), fresh],
    );
    result.creds += updated[0]!.n;
    result.changedMeanwhile += stale.length - updated[0]!.n;
  }
}

async function reEncryptKeys(
  dataSource: DataSource,
  cipher: AuthStateCipher,
  batchSize: number,
  result: ReEncryptResult,
): Promise<void> {
  let after = { sessionId: '', type: '', keyId: '' };
  for (;;) {
    const rows = await dataSource.query<
      { session_id: string; type: string; key_id: string; data: Buffer }[]
    >(
      `SELECT session_id, type, key_id, data FROM wa_auth_keys
       WHERE (session_id, type, key_id) > ($1::bpchar, $2, $3)
       ORDER BY session_id, type, key_id LIMIT $4`,
      [after.sessionId, after.type, after.keyId, batchSize],
    );
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    after = { sessionId: last.session_id, type: last.type, keyId: last.key_id };
    const stale = rows.filter((r) => !cipher.isCurrent(r.data));
    if (stale.length === 0) continue;
    const fresh = stale.map((r) =>
      rewrap(cipher, r.data, { sessionId: r.session_id, kind: 'key', type: r.type, id: r.key_id }),
    );
    const updated = await dataSource.query<{ n: number }[]>(
      `WITH u AS (
         UPDATE wa_auth_keys k SET data = u.fresh
         FROM unnest($1::bpchar[], $2::text[], $3::text[], $4::bytea[], $5::bytea[])
           AS u(session_id, type, key_id, old, fresh)
         WHERE k.session_id = u.session_id AND k.type = u.type AND k.key_id = u.key_id
           AND k.data = u.old
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM u`,
      [
        stale.map((r) => r.session_id),
        stale.map((r) => r.type),
        stale.map((r) => r.key_id),
        stale.map((r) => r.data),
        fresh,
      ],
    );
    result.keys += updated[0]!.n;
    result.changedMeanwhile += stale.length - updated[0]!.n;
  }
}

function rewrap(cipher: AuthStateCipher, data: Buffer, row: AuthStateRow): Buffer {
  return cipher.encrypt(cipher.decrypt(data, row), row);
}

/** Rows whose ciphertext does not start with the current key's prefix. */
async function countStale(dataSource: DataSource, cipher: AuthStateCipher): Promise<number> {
  const prefix = cipher.currentPrefix;
  const rows = await dataSource.query<{ n: number }[]>(
    `SELECT ((SELECT count(*) FROM wa_auth_creds WHERE substring(data from 1 for $2) <> $1)
           + (SELECT count(*) FROM wa_auth_keys WHERE substring(data from 1 for $2) <> $1))::int
       AS n`,
    [prefix, prefix.length],
  );
  return rows[0]!.n;
}
