import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '@wagw/persistence';
import pg from 'pg';

/**
 * The embedded database is ONE Postgres backend (PGlite). Any number of `pg` connections to it
 * must behave as if each had its own backend: no statement, portal or transaction of one
 * connection may ever run against another's.
 */
describe('embedded database under concurrency', () => {
  let dataDir: string;
  let server: EmbeddedPostgres;
  let pool: pg.Pool;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wagw-pglite-'));
    server = await startEmbeddedPostgres({ dataDir, advertise: false });
    pool = new pg.Pool({ connectionString: server.url, max: 10 });
    await pool.query('CREATE TABLE items (k text NOT NULL, v int NOT NULL)');
  });

  afterAll(async () => {
    await pool?.end();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('never mixes statements, parameters or transactions of concurrent connections', async () => {
    const failures: string[] = [];
    const reader = async (worker: number): Promise<void> => {
      for (let i = 0; i < 60; i += 1) {
        // Different parameter counts per worker: a mixed Bind fails loudly, a mixed portal answers wrongly.
        const params = Array.from({ length: (worker % 5) + 1 }, (_, j) => `${worker}-${i}-${j}`);
        const sql = `SELECT ${params.map((_, j) => `$${j + 1}::text AS c${j}`).join(', ')}`;
        try {
          const { rows } = await pool.query(sql, params);
          const got = Object.values(rows[0] as Record<string, string>);
          if (JSON.stringify(got) !== JSON.stringify(params))
            failures.push(`reader ${worker}: ${JSON.stringify(got)}`);
        } catch (error) {
          failures.push(`reader ${worker}: ${(error as Error).message}`);
        }
      }
    };
    const writer = async (worker: number): Promise<void> => {
      for (let i = 0; i < 30; i += 1) {
        const client = await pool.connect();
        const key = `w${worker}`;
        try {
          await client.query('BEGIN');
          await client.query('INSERT INTO items (k, v) VALUES ($1, $2)', [key, i]);
          const { rows } = await client.query('SELECT count(*)::int AS n FROM items WHERE k = $1', [
            key,
          ]);
          if ((rows[0] as { n: number }).n !== i + 1)
            failures.push(`writer ${worker}: saw ${(rows[0] as { n: number }).n} rows at ${i}`);
          await client.query(i % 3 === 2 ? 'ROLLBACK' : 'COMMIT');
          if (i % 3 === 2) await client.query('INSERT INTO items (k, v) VALUES ($1, $2)', [key, i]);
        } catch (error) {
          failures.push(`writer ${worker}: ${(error as Error).message}`);
          await client.query('ROLLBACK').catch(() => undefined);
        } finally {
          client.release();
        }
      }
    };
    await Promise.all([
      ...Array.from({ length: 6 }, (_, w) => reader(w)),
      ...Array.from({ length: 3 }, (_, w) => writer(w)),
    ]);
    expect(failures).toEqual([]);
    const { rows } = await pool.query(
      'SELECT k, count(*)::int AS n FROM items GROUP BY k ORDER BY k',
    );
    expect(rows).toEqual([
      { k: 'w0', n: 30 },
      { k: 'w1', n: 30 },
      { k: 'w2', n: 30 },
    ]);
  });

  it('delivers a NOTIFY to the connection that LISTENs, as separate backends would', async () => {
    const listener = new pg.Client({ connectionString: server.url });
    await listener.connect();
    try {
      const heard = new Promise<{ channel: string; payload?: string }>((resolve) =>
        listener.on('notification', resolve),
      );
      await listener.query('LISTEN key_revoked');
      const notifier = await pool.connect();
      try {
        await notifier.query('BEGIN');
        await notifier.query("SELECT pg_notify('key_revoked', 'K42')");
        await notifier.query('COMMIT');
      } finally {
        notifier.release();
      }
      expect(await heard).toMatchObject({ channel: 'key_revoked', payload: 'K42' });
    } finally {
      await listener.end();
    }
  });

  it('rolls back what a connection that dies inside a transaction left open', async () => {
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    await client.query("INSERT INTO items (k, v) VALUES ('dead', 1)");
    // Dropped without COMMIT, as a crashed process would.
    (
      client as unknown as { connection: { stream: { destroy(): void } } }
    ).connection.stream.destroy();
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM items WHERE k = 'dead'");
    expect(rows[0]).toEqual({ n: 0 });
  });
});
