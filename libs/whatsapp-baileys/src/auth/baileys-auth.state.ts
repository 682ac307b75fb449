import type { WaAuthStore } from '@wagw/whatsapp';
import type {
  AuthenticationCreds,
  AuthenticationState,
  SignalDataSet,
  SignalDataTypeMap,
  SignalKeyStore,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { loadBaileys } from '../baileys.module.js';
import { BoundedCacheStore } from './bounded-cache.store.js';

export interface BaileysAuthState {
  state: AuthenticationState;
  /** Writes the whole creds (Baileys mutates `state.creds` in place, then emits `creds.update`). */
  saveCreds(): Promise<void>;
}

export interface BaileysAuthStateOptions {
  /**
   * Where writes of decryption state go (see isDecryptionState): a function that stores them
   * later, once the messages decrypted before them are handed over; null (or unset) → at once.
   */
  deferDecryptionState?: () => ((write: () => Promise<void>) => void) | null;
  /** Signal keys kept in memory per session; the store is the truth. */
  keyCacheMax?: number;
  keyCacheTtlMs?: number;
  /** Keys remembered as absent per session (see `AbsentKeys`). */
  absentKeysMax?: number;
}

/**
 * Keys a read found absent, until they are written: Baileys' cache keeps only what it found,
 * and Baileys 7 asks for absent keys on every send (a recipient's `tctoken`, twice, and the
 * token index: three store reads per message when the network has issued no token). Only this
 * process writes the session's keys while it holds the lease (writes are fenced), so what it
 * saw absent stays absent until it writes it. Bounded: the oldest is forgotten first, which
 * costs one read.
 */
class AbsentKeys {
  private readonly slots = new Set<string>();

  constructor(private readonly max: number) {}

  has(slot: string): boolean {
    return this.slots.has(slot);
  }

  add(slot: string): void {
    this.slots.delete(slot);
    this.slots.add(slot);
    if (this.slots.size > this.max) this.slots.delete(this.slots.values().next().value!);
  }

  /** A write: present now (or deleted, which is absent again). */
  written(slot: string, value: string | null): void {
    if (value === null) this.add(slot);
    else this.slots.delete(slot);
  }
}

/**
 * What decrypting an inbound message changes: the sender's session (its chain advanced, the
 * message key used up), sender keys, and a one-time prekey a `pkmsg` consumed.
 */
const isDecryptionState = (entry: { type: string; value: string | null }): boolean =>
  entry.type === 'session' ||
  entry.type === 'sender-key' ||
  entry.type === 'sender-key-memory' ||
  (entry.type === 'pre-key' && entry.value === null);

/**
 * Baileys' `AuthenticationState` over our port's `WaAuthStore` (Postgres, encrypted, fenced):
 * values serialised with Baileys' BufferJSON, `app-state-sync-key` revived through its proto type
 * (Baileys calls methods of it), a whole `set()` batch applied in one store write (one
 * transaction-like statement; `null` deletes), and a bounded cache in front of the keys.
 * A write refused by the fence throws `LeaseLostError` out of Baileys' call; the runner closes
 * the socket on it. Decryption state may be stored later (`deferDecryptionState`); until then
 * reads see it from memory.
 */
export async function loadBaileysAuthState(
  store: WaAuthStore,
  logger: Logger,
  options: BaileysAuthStateOptions = {},
): Promise<BaileysAuthState> {
  // Baileys loads on first use: a gateway boots without it (its import costs seconds).
  const { BufferJSON, initAuthCreds, makeCacheableSignalKeyStore, proto } = await loadBaileys();
  const encode = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);
  const decode = <T>(text: string): T => JSON.parse(text, BufferJSON.reviver) as T;
  const stored = await store.readCreds();
  const creds: AuthenticationCreds = stored ? decode<AuthenticationCreds>(stored) : initAuthCreds();
  /** Deferred writes not stored yet, by `type id`: what a read must see meanwhile. */
  const unwritten = new Map<string, string | null>();
  const absent = new AbsentKeys(options.absentKeysMax ?? 256);
  /** Batches written so far: a read that overlapped one learns nothing about absence. */
  let writes = 0;
  const slot = (type: string, id: string): string => `${type} ${id}`;
  const keys: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const toRead = ids.filter(
        (id) => !unwritten.has(slot(type, id)) && !absent.has(slot(type, id)),
      );
      const writesBefore = writes;
      const found =
        toRead.length > 0 ? await store.readKeys(type, toRead) : new Map<string, string>();
      // A write while reading may have made one present: remember nothing from this read then.
      if (writes === writesBefore)
        for (const id of toRead) if (!found.has(id)) absent.add(slot(type, id));
      for (const id of ids) {
        const value = unwritten.get(slot(type, id));
        if (typeof value === 'string') found.set(id, value);
      }
      const values: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const [id, text] of found) {
        let value: unknown = decode(text);
        if (type === 'app-state-sync-key' && value)
          value = proto.Message.AppStateSyncKeyData.fromObject(value);
        values[id] = value as SignalDataTypeMap[T];
      }
      return values;
    },
    async set(data: SignalDataSet) {
      const entries: { type: string; id: string; value: string | null }[] = [];
      for (const [type, byId] of Object.entries(data)) {
        for (const [id, value] of Object.entries(byId ?? {})) {
          entries.push({
            type,
            id,
            value: value === null || value === undefined ? null : encode(value),
          });
        }
      }
      // Before the write: a read meanwhile must go to the store (or to `unwritten`).
      writes += 1;
      for (const e of entries) absent.written(slot(e.type, e.id), e.value);
      const defer = options.deferDecryptionState?.();
      if (!defer) {
        await store.writeKeys(entries);
        return;
      }
      const later = entries.filter(isDecryptionState);
      const now = entries.filter((e) => !isDecryptionState(e));
      if (later.length > 0) {
        for (const e of later) unwritten.set(slot(e.type, e.id), e.value);
        defer(async () => {
          await store.writeKeys(later);
          for (const e of later)
            if (unwritten.get(slot(e.type, e.id)) === e.value) unwritten.delete(slot(e.type, e.id));
        });
      }
      if (now.length > 0) await store.writeKeys(now);
    },
  };
  const cache = new BoundedCacheStore({
    max: options.keyCacheMax ?? 512,
    ttlMs: options.keyCacheTtlMs ?? 5 * 60_000,
    // One-time prekeys are written by the hundred at an upload and each read at most once (by
    // the first message of a new contact): cached, a freshly paired session held 812 key pairs.
    uncached: (key) => key.startsWith('pre-key.'),
  });
  return {
    state: { creds, keys: makeCacheableSignalKeyStore(keys, logger, cache) },
    saveCreds: () => store.writeCreds(encode(creds)),
  };
}
