import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AuthStateCipher,
  LeaseRepository,
  type LeaseOwner,
  PostgresAuthStore,
} from '@wagw/gateway';
import { createDataSource } from '@wagw/persistence';
import { LeaseLostError, type WaAuthStore } from '@wagw/whatsapp';
import { loadBaileysAuthState } from '@wagw/whatsapp-baileys';
import {
  BufferJSON,
  Curve,
  initAuthCreds,
  proto,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { expireLeases, newOrganizationId, newSession } from '../support/session-factory.js';

const logger = pino({ level: 'silent' });
/** Bit-exact comparison through Baileys' own serialisation (Buffers as bytes). */
const bytes = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);

/** One value of every key type Baileys 7 stores, as the library produces them. */
function everyKeyType(n: number): SignalDataSet {
  const pair = Curve.generateKeyPair();
  return {
    'pre-key': { [`${n}`]: pair },
    session: { [`${n}.0`]: randomBytes(300) },
    'sender-key': { [`group${n}@g.us::${n}::0`]: randomBytes(120) },
    'sender-key-memory': { [`group${n}@g.us`]: { [`${n}@s.whatsapp.net`]: true } },
    'app-state-sync-key': {
      [`AAAA${n}`]: proto.Message.AppStateSyncKeyData.fromObject({
        keyData: randomBytes(32),
        fingerprint: { rawId: n, currentIndex: 1, deviceIndexes: [0, 1] },
        timestamp: 1_719_662_400_000 + n,
      }),
    },
    'app-state-sync-version': {
      regular_high: {
        version: n,
        hash: randomBytes(128),
        indexValueMap: { [randomBytes(8).toString('base64')]: { valueMac: randomBytes(32) } },
      },
    },
    'lid-mapping': { [`62811${n}`]: `1000${n}` },
    'device-list': { [`62811${n}`]: ['0', '7'] },
    tctoken: { [`62811${n}@s.whatsapp.net`]: { token: randomBytes(24), timestamp: '1719662400' } },
    'identity-key': { [`1000${n}.0`]: randomBytes(33) },
  };
}

/**
 * Baileys' auth state on the Postgres auth store, with the real library: what Baileys writes
 * comes back bit-exact, batches are whole, a stale holder writes nothing, a wipe leaves nothing.
 */
describe('Baileys auth state on Postgres', () => {
  let ds: DataSource;
  const cipher = new AuthStateCipher(randomBytes(32));

  beforeAll(async () => {
    ds = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 6,
      applicationName: 'wagw-baileys-auth',
    }).initialize();
  });
  afterAll(() => ds.destroy());

  async function held(): Promise<{
    sessionId: string;
    owner: LeaseOwner;
    store: PostgresAuthStore;
  }> {
    const sessionId = await newSession(ds, newOrganizationId(), { desiredState: 'stopped' });
    const gatewayId = `gw-bl-${randomUUID().slice(0, 8)}`;
    const owner = { gatewayId, ownerId: `${gatewayId}/${randomUUID()}` };
    const [row] = await new LeaseRepository(ds).claim(owner, 1, 60_000, {
      sessionId,
      forAction: true,
    });
    const fence = { ownerId: owner.ownerId, epoch: row!.epoch };
    return { sessionId, owner, store: new PostgresAuthStore(ds, cipher, sessionId, () => fence) };
  }

  it('round-trips creds from initAuthCreds() bit-exact, stored as ciphertext', async () => {
    const { sessionId, store } = await held();
    const first = await loadBaileysAuthState(store, logger);
    first.state.creds.me = { id: '6281234567890:7@s.whatsapp.net', lid: '100000000000001:7@lid' };
    await first.saveCreds();
    const again = await loadBaileysAuthState(store, logger);
    expect(bytes(again.state.creds)).toBe(bytes(first.state.creds));
    expect(Buffer.isBuffer(again.state.creds.noiseKey.private)).toBe(true);
    const [raw] = await ds.query<{ data: Buffer }[]>(
      'SELECT data FROM wa_auth_creds WHERE session_id = $1',
      [sessionId],
    );
    const secret = Buffer.from(first.state.creds.noiseKey.private);
    expect(raw!.data.includes(secret)).toBe(false);
    expect(raw!.data.includes(Buffer.from(secret.toString('base64')))).toBe(false);
    expect(raw!.data.includes(Buffer.from('6281234567890'))).toBe(false);
  });

  it('starts a session with no creds from fresh ones', async () => {
    const { store } = await held();
    const { state } = await loadBaileysAuthState(store, logger);
    expect(state.creds.registered).toBe(false);
    expect(bytes(Object.keys(state.creds).sort())).toBe(bytes(Object.keys(initAuthCreds()).sort()));
  });

  it('round-trips every key type bit-exact, app-state-sync-key as its proto type', async () => {
    const { store } = await held();
    const written = everyKeyType(1);
    await (await loadBaileysAuthState(store, logger)).state.keys.set(written);
    // A fresh load: nothing comes from the in-memory cache.
    const { keys } = (await loadBaileysAuthState(store, logger)).state;
    for (const [type, byId] of Object.entries(written)) {
      const ids = Object.keys(byId);
      const read = await keys.get(type as keyof SignalDataTypeMap, ids);
      expect({ type, value: bytes(read) }).toEqual({ type, value: bytes(byId) });
    }
    const syncKey = await keys.get('app-state-sync-key', ['AAAA1']);
    expect(syncKey.AAAA1).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
  });

  it('applies concurrent set() batches whole and loses none; null deletes', async () => {
    const { store } = await held();
    const { keys } = (await loadBaileysAuthState(store, logger)).state;
    // Awaitable<void> in Baileys' types; our store's set() is async.
    await Promise.all(
      Array.from({ length: 20 }, async (_, b) =>
        keys.set({
          'pre-key': Object.fromEntries(
            Array.from({ length: 40 }, (_, i) => [`${b * 40 + i}`, Curve.generateKeyPair()]),
          ),
          session: { [`peer${b}.0`]: randomBytes(64) },
        }),
      ),
    );
    const fresh = (await loadBaileysAuthState(store, logger)).state.keys;
    const ids = Array.from({ length: 800 }, (_, i) => `${i}`);
    expect(Object.keys(await fresh.get('pre-key', ids))).toHaveLength(800);
    await fresh.set({ 'pre-key': { '0': null, '1': null } });
    const after = (await loadBaileysAuthState(store, logger)).state.keys;
    expect(Object.keys(await after.get('pre-key', ids))).toHaveLength(798);
  });

  it('reads a key it found absent once, until it is written (Baileys asks for absent tctokens on every send)', async () => {
    const { store } = await held();
    const reads: string[] = [];
    const counting: WaAuthStore = {
      readCreds: () => store.readCreds(),
      writeCreds: (creds) => store.writeCreds(creds),
      readKeys: (type, ids) => {
        reads.push(...ids.map((id) => `${type} ${id}`));
        return store.readKeys(type, ids);
      },
      writeKeys: (entries) => store.writeKeys(entries),
      clear: () => store.clear(),
    };
    const { keys } = (await loadBaileysAuthState(counting, logger, { keyCacheMax: 1 })).state;
    const jid = '100000000000042@lid';
    for (let i = 0; i < 5; i++) expect(await keys.get('tctoken', [jid, '__index'])).toEqual({});
    expect(reads).toEqual([`tctoken ${jid}`, 'tctoken __index']);

    // Written: present at once (and a second load, with no memory of it, reads it from the store).
    const entry = { token: Buffer.alloc(0), senderTimestamp: 1_719_662_400 };
    await keys.set({ tctoken: { [jid]: entry } });
    expect(bytes((await keys.get('tctoken', [jid]))[jid])).toBe(bytes(entry));
    const other = (await loadBaileysAuthState(store, logger)).state.keys;
    expect(bytes((await other.get('tctoken', [jid]))[jid])).toBe(bytes(entry));

    // Deleted: absent again, without asking the store (Baileys' own cache, one key here, has
    // moved on to another key by then).
    await keys.set({ tctoken: { [jid]: null } });
    await keys.get('session', ['1.0']);
    reads.length = 0;
    expect((await keys.get('tctoken', [jid]))[jid] ?? null).toBeNull();
    expect(reads).toEqual([]);
    expect(await other.get('tctoken', ['__index'])).toEqual({});
  });

  it('writes nothing for a holder whose epoch is stale (LeaseLostError)', async () => {
    const { sessionId, owner, store } = await held();
    const stale = await loadBaileysAuthState(store, logger);
    await stale.state.keys.set({ 'pre-key': { '1': Curve.generateKeyPair() } });
    // The lease lapses and a peer claims the session (epoch + 1).
    await expireLeases(ds, [sessionId], 1_000);
    const peer = { gatewayId: 'gw-peer', ownerId: `gw-peer/${randomUUID()}` };
    expect(owner.ownerId).not.toBe(peer.ownerId);
    await new LeaseRepository(ds).claim(peer, 1, 60_000, { sessionId, forAction: true });
    await expect(
      stale.state.keys.set({ 'pre-key': { '2': Curve.generateKeyPair(), '1': null } }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(stale.saveCreds()).rejects.toBeInstanceOf(LeaseLostError);
    const rows = await ds.query<{ key_id: string }[]>(
      `SELECT key_id FROM wa_auth_keys WHERE session_id = $1 ORDER BY key_id`,
      [sessionId],
    );
    expect(rows.map((r) => r.key_id)).toEqual(['1']);
  });

  it('leaves no row after a wipe', async () => {
    const { sessionId, store } = await held();
    const auth = await loadBaileysAuthState(store, logger);
    await auth.saveCreds();
    await auth.state.keys.set(everyKeyType(2));
    await store.clear();
    const [counts] = await ds.query<{ creds: number; keys: number }[]>(
      `SELECT (SELECT count(*) FROM wa_auth_creds WHERE session_id = $1)::int AS creds,
              (SELECT count(*) FROM wa_auth_keys WHERE session_id = $1)::int AS keys`,
      [sessionId],
    );
    expect(counts).toEqual({ creds: 0, keys: 0 });
  });
});
