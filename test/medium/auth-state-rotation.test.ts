import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AuthStateCipher,
  LeaseRepository,
  PostgresAuthStore,
  reEncryptAuthState,
} from '@wagw/gateway';
import { createDataSource } from '@wagw/persistence';
import type { DataSource } from 'typeorm';
import { newOrganizationId, newSession } from '../support/session-factory.js';
import { createTestDatabase, dropTestDatabase } from '../support/test-database.js';

/**
 * Rotating the auth-state key while the fleet runs: every row ends under the new key, and no
 * write a gateway makes during the rotation is lost or replaced by older content.
 * Its own database: the rotation walks every auth-state row.
 */
describe('auth-state key rotation', () => {
  const OLD = randomBytes(32);
  const NEW = randomBytes(32);
  let db: { name: string; url: string };
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('wagw_rotation');
    ds = await createDataSource({
      url: db.url,
      poolSize: 6,
      applicationName: 'wagw-rotation',
    }).initialize();
    await ds.runMigrations({ transaction: 'all' });
  });

  afterAll(async () => {
    await ds?.destroy();
    if (db) await dropTestDatabase(db.name);
  });

  async function heldStore(cipher: AuthStateCipher): Promise<{
    sessionId: string;
    store: PostgresAuthStore;
    as(c: AuthStateCipher): PostgresAuthStore;
  }> {
    const sessionId = await newSession(ds, newOrganizationId(), { desiredState: 'stopped' });
    const owner = { gatewayId: 'gw-rot', ownerId: `gw-rot/${randomUUID()}` };
    const [row] = await new LeaseRepository(ds).claim(owner, 1, 60_000, {
      sessionId,
      forAction: true,
    });
    const fence = { ownerId: owner.ownerId, epoch: row!.epoch };
    const as = (c: AuthStateCipher) => new PostgresAuthStore(ds, c, sessionId, () => fence);
    return { sessionId, store: as(cipher), as };
  }

  it('re-encrypts every row under the new key under concurrent writes, losing nothing', async () => {
    const before = new AuthStateCipher(OLD);
    const rotating = new AuthStateCipher([NEW, OLD]);
    const sessions = await Promise.all([1, 2, 3].map(() => heldStore(before)));
    for (const [n, s] of sessions.entries()) {
      await s.store.writeCreds(`creds-${n}`);
      await s.store.writeKeys(
        Array.from({ length: 400 }, (_, i) => ({
          type: 'pre-key',
          id: String(i),
          value: `v0-${i}`,
        })),
      );
    }
    // The fleet, rolled to the new keyring, keeps writing while the rotation runs.
    const expected = new Map<string, string>();
    let writing = true;
    const writer = (async () => {
      const live = sessions[0]!.as(rotating);
      for (let round = 1; writing; round++) {
        const batch = Array.from({ length: 50 }, (_, i) => {
          const id = String((round * 37 + i * 7) % 400);
          return { type: 'pre-key', id, value: `v${round}-${id}` };
        });
        await live.writeKeys(batch);
        for (const e of batch) expected.set(e.id, e.value);
        await live.writeCreds(`creds-0-${round}`);
        expected.set('creds', `creds-0-${round}`);
      }
    })();
    const result = await reEncryptAuthState(ds, rotating, { batchSize: 64 });
    writing = false;
    await writer;

    expect(result.remaining).toBe(0);
    expect(result.keys + result.changedMeanwhile).toBeGreaterThanOrEqual(1_200 - 400);
    // The old key is gone: every row reads with the new key alone, with its last value.
    const after = new AuthStateCipher(NEW);
    for (const [n, s] of sessions.entries()) {
      const store = s.as(after);
      const ids = Array.from({ length: 400 }, (_, i) => String(i));
      const keys = await store.readKeys('pre-key', ids);
      expect(keys.size).toBe(400);
      for (const id of ids) {
        const want = n === 0 ? (expected.get(id) ?? `v0-${id}`) : `v0-${id}`;
        expect(keys.get(id)).toBe(want);
      }
      expect(await store.readCreds()).toBe(n === 0 ? expected.get('creds') : `creds-${n}`);
    }
    const raw = await ds.query<{ data: Buffer }[]>('SELECT data FROM wa_auth_keys LIMIT 1');
    expect(after.isCurrent(raw[0]!.data)).toBe(true);
  });

  it('has nothing to do when every row is already current', async () => {
    const result = await reEncryptAuthState(ds, new AuthStateCipher([NEW, OLD]));
    expect(result).toEqual({ creds: 0, keys: 0, changedMeanwhile: 0, remaining: 0 });
  });
});
