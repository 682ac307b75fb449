import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  AuthStateCipher,
  AuthStateDecryptError,
  LeaseRepository,
  type LeaseOwner,
  PostgresAuthStore,
} from '@wagw/gateway';
import { createDataSource, deleteAuthState } from '@wagw/persistence';
import { LeaseLostError } from '@wagw/whatsapp';
import type { DataSource } from 'typeorm';
import { expireLeases, newOrganizationId, newSession } from '../support/session-factory.js';

/**
 * The Postgres auth store on the suite's shared database. Sessions here are `stopped` and held
 * through targeted claims (`forAction`), so no other test's worker can claim them.
 */

const TTL = 30_000;
const newOwner = (): LeaseOwner => {
  const gatewayId = `gw-auth-${randomUUID().slice(0, 8)}`;
  return { gatewayId, ownerId: `${gatewayId}/${randomUUID()}` };
};
const preKeys = (from: number, count: number, value: (id: string) => string | null) =>
  Array.from({ length: count }, (_, i) => {
    const id = String(from + i);
    return { type: 'pre-key', id, value: value(id) };
  });

describe('PostgresAuthStore', () => {
  let ds: DataSource;
  let leases: LeaseRepository;
  const cipher = new AuthStateCipher(randomBytes(32));
  let org: string;

  beforeAll(async () => {
    ds = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 4,
      applicationName: 'wagw-auth-store',
    }).initialize();
    leases = new LeaseRepository(ds);
  });
  afterAll(() => ds.destroy());
  beforeEach(() => {
    org = newOrganizationId();
  });

  /** A session held by a fresh owner, and that owner's store for it. */
  async function held(): Promise<{
    sessionId: string;
    owner: LeaseOwner;
    store: PostgresAuthStore;
  }> {
    const sessionId = await newSession(ds, org, { desiredState: 'stopped' });
    const owner = newOwner();
    const [row] = await leases.claim(owner, 1, TTL, { sessionId, forAction: true });
    const fence = { ownerId: owner.ownerId, epoch: row!.epoch };
    return { sessionId, owner, store: new PostgresAuthStore(ds, cipher, sessionId, () => fence) };
  }

  async function rawState(sessionId: string): Promise<{ creds: Buffer | null; keys: string[] }> {
    const creds = await ds.query<{ data: Buffer }[]>(
      'SELECT data FROM wa_auth_creds WHERE session_id = $1',
      [sessionId],
    );
    const keys = await ds.query<{ k: string }[]>(
      `SELECT type || ':' || key_id AS k FROM wa_auth_keys WHERE session_id = $1 ORDER BY 1`,
      [sessionId],
    );
    return { creds: creds[0]?.data ?? null, keys: keys.map((r) => r.k) };
  }

  it('round-trips creds and keys, encrypted at rest', async () => {
    const { sessionId, store } = await held();
    expect(await store.readCreds()).toBeNull();
    const creds = JSON.stringify({
      me: { id: '6591234567:1@s.whatsapp.net' },
      secret: 'plain-creds',
    });
    await store.writeCreds(creds);
    expect(await store.readCreds()).toBe(creds);
    await store.writeCreds(`${creds} `);
    expect(await store.readCreds()).toBe(`${creds} `);

    // Baileys' pattern: a batch of pre-keys at once, plus keys of other types.
    await store.writeKeys([
      ...preKeys(1, 60, (id) => `pre-key-secret-${id}`),
      { type: 'session', id: '6591234567.0', value: 'session-secret' },
    ]);
    const read = await store.readKeys('pre-key', ['1', '30', '60', '61', 'nope']);
    expect([...read.entries()].sort()).toEqual([
      ['1', 'pre-key-secret-1'],
      ['30', 'pre-key-secret-30'],
      ['60', 'pre-key-secret-60'],
    ]);
    expect(await store.readKeys('session', ['6591234567.0'])).toEqual(
      new Map([['6591234567.0', 'session-secret']]),
    );
    expect(await store.readKeys('pre-key', [])).toEqual(new Map());

    const raw = await rawState(sessionId);
    expect(raw.keys).toHaveLength(61);
    expect(raw.creds!.includes(Buffer.from('plain-creds'))).toBe(false);
    const keyBytes = await ds.query<{ data: Buffer }[]>(
      'SELECT data FROM wa_auth_keys WHERE session_id = $1',
      [sessionId],
    );
    for (const { data } of keyBytes) expect(data.includes(Buffer.from('secret'))).toBe(false);
  });

  it('applies a batch as a whole: upserts, deletes (null), last entry wins', async () => {
    const { sessionId, store } = await held();
    await store.writeKeys(preKeys(1, 5, (id) => `v1-${id}`));
    await store.writeKeys([
      { type: 'pre-key', id: '1', value: null },
      { type: 'pre-key', id: '2', value: 'v2-2' },
      { type: 'pre-key', id: '6', value: 'v2-6' },
      { type: 'pre-key', id: '3', value: 'v2-3' },
      { type: 'pre-key', id: '3', value: null },
      { type: 'pre-key', id: '4', value: null },
      { type: 'pre-key', id: '4', value: 'v2-4' },
      { type: 'pre-key', id: 'missing', value: null },
    ]);
    const all = await store.readKeys('pre-key', ['1', '2', '3', '4', '5', '6']);
    expect(Object.fromEntries(all)).toEqual({ '2': 'v2-2', '4': 'v2-4', '5': 'v1-5', '6': 'v2-6' });

    // A batch the database rejects (NUL is not valid text) leaves nothing half-applied.
    await expect(
      store.writeKeys([
        { type: 'pre-key', id: '5', value: null },
        { type: 'pre-key', id: '7', value: 'v3-7' },
        { type: 'pre-key', id: 'bad\u0000id', value: 'x' },
      ]),
    ).rejects.toThrow();
    expect((await rawState(sessionId)).keys).toEqual([
      'pre-key:2',
      'pre-key:4',
      'pre-key:5',
      'pre-key:6',
    ]);
  });

  it('never shows a reader half a batch', async () => {
    const { store } = await held();
    const ids = Array.from({ length: 50 }, (_, i) => String(i));
    await store.writeKeys(ids.map((id) => ({ type: 'pre-key', id, value: 'gen-0' })));
    let writing = true;
    const seen: string[][] = [];
    const reader = (async () => {
      while (writing) seen.push([...(await store.readKeys('pre-key', ids)).values()]);
    })();
    for (let gen = 1; gen <= 15; gen++) {
      await store.writeKeys(ids.map((id) => ({ type: 'pre-key', id, value: `gen-${gen}` })));
    }
    writing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    for (const values of seen) {
      expect(values).toHaveLength(50);
      expect(new Set(values).size).toBe(1);
    }
  });

  it('runs concurrent batches over the same keys without deadlocking', async () => {
    const { store } = await held();
    const forward = preKeys(1, 300, (id) => `a-${id}`);
    const backward = preKeys(1, 300, (id) => `b-${id}`).reverse();
    for (let round = 0; round < 5; round++) {
      await Promise.all([store.writeKeys(forward), store.writeKeys(backward)]);
    }
    const values = [
      ...(
        await store.readKeys(
          'pre-key',
          forward.map((k) => k.id),
        )
      ).values(),
    ];
    expect(values).toHaveLength(300);
    // Whole batches, one after the other: all from the same writer.
    expect(new Set(values.map((v) => v[0])).size).toBe(1);
  });

  it('refuses every write once a peer claimed the session (epoch moved), changing nothing', async () => {
    const { sessionId, store: stale } = await held();
    await stale.writeCreds('creds-v1');
    await stale.writeKeys(preKeys(1, 3, (id) => `v1-${id}`));

    await expireLeases(ds, [sessionId]);
    const peer = newOwner();
    const [row] = await leases.claim(peer, 1, TTL, { sessionId, forAction: true });
    expect(row!.epoch).toBe(2);
    const before = await rawState(sessionId);

    await expect(stale.writeCreds('creds-stale')).rejects.toThrow(LeaseLostError);
    await expect(
      stale.writeKeys([
        { type: 'pre-key', id: '1', value: null },
        { type: 'pre-key', id: '9', value: 'stale' },
      ]),
    ).rejects.toThrow(LeaseLostError);
    await expect(stale.clear()).rejects.toThrow(LeaseLostError);
    const after = await rawState(sessionId);
    expect(after.keys).toEqual(before.keys);
    expect(after.creds!.equals(before.creds!)).toBe(true);

    // The new holder writes under its own epoch.
    const fresh = new PostgresAuthStore(ds, cipher, sessionId, () => ({
      ownerId: peer.ownerId,
      epoch: 2,
    }));
    await fresh.writeCreds('creds-v2');
    expect(await stale.readCreds()).toBe('creds-v2');
  });

  it('refuses writes after the lease expired or was released, even with nobody else holding it', async () => {
    const { sessionId, owner, store } = await held();
    await store.writeCreds('creds-v1');
    await expireLeases(ds, [sessionId], 5);
    await expect(store.writeCreds('late')).rejects.toThrow(LeaseLostError);
    await expect(store.writeKeys(preKeys(1, 2, () => 'late'))).rejects.toThrow(LeaseLostError);
    await expect(store.clear()).rejects.toThrow(LeaseLostError);
    expect(await store.readCreds()).toBe('creds-v1');
    expect((await rawState(sessionId)).keys).toEqual([]);

    expect(await leases.release(owner, sessionId, 1)).toBe(true);
    await expect(store.writeCreds('after-release')).rejects.toThrow(LeaseLostError);
    expect(await store.readCreds()).toBe('creds-v1');
  });

  it('clears creds and keys of its session only, fenced', async () => {
    const a = await held();
    const b = await held();
    for (const { store } of [a, b]) {
      await store.writeCreds('creds');
      await store.writeKeys(preKeys(1, 3, () => 'k'));
    }
    await a.store.clear();
    expect(await rawState(a.sessionId)).toEqual({ creds: null, keys: [] });
    expect(await a.store.readCreds()).toBeNull();
    expect(await b.store.readCreds()).toBe('creds');
    expect((await rawState(b.sessionId)).keys).toHaveLength(3);
    // Clearing nothing is still a fenced success while held.
    await a.store.clear();
  });

  it('binds ciphertexts to their session: a copied row does not decrypt', async () => {
    const a = await held();
    const b = await held();
    await a.store.writeCreds('creds-of-a');
    await b.store.writeCreds('creds-of-b');
    await ds.query(
      `UPDATE wa_auth_creds SET data = (SELECT data FROM wa_auth_creds WHERE session_id = $1)
       WHERE session_id = $2`,
      [a.sessionId, b.sessionId],
    );
    await expect(b.store.readCreds()).rejects.toThrow(AuthStateDecryptError);
  });

  it('deleteAuthState wipes a deleted session without a lease', async () => {
    const { sessionId, owner, store } = await held();
    await store.writeCreds('creds');
    await store.writeKeys(preKeys(1, 4, () => 'k'));
    await leases.release(owner, sessionId, 1);
    await ds.transaction((manager) => deleteAuthState(manager, sessionId));
    expect(await rawState(sessionId)).toEqual({ creds: null, keys: [] });
  });
});
