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
  /** Signal keys kept in memory per session; the store is the truth. */
  keyCacheMax?: number;
  keyCacheTtlMs?: number;
}

/**
 * Baileys' `AuthenticationState` over our port's `WaAuthStore` (Postgres, encrypted, fenced):
 * values serialised with Baileys' BufferJSON, `app-state-sync-key` revived through its proto type
 * (Baileys calls methods of it), a whole `set()` batch applied in one store write (one
 * transaction-like statement; `null` deletes), and a bounded cache in front of the keys.
 * A write refused by the fence throws `LeaseLostError` out of Baileys' call; the runner closes
 * the socket on it.
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
  const keys: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const found = await store.readKeys(type, ids);
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
      await store.writeKeys(entries);
    },
  };
  const cache = new BoundedCacheStore({
    max: options.keyCacheMax ?? 2_000,
    ttlMs: options.keyCacheTtlMs ?? 5 * 60_000,
  });
  return {
    state: { creds, keys: makeCacheableSignalKeyStore(keys, logger, cache) },
    saveCreds: () => store.writeCreds(encode(creds)),
  };
}
