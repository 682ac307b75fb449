import { withSharedTransactionStorage } from '@wagw/shared-transaction-storage';
import {
  addTransactionCapability,
  DEFAULT_CONNECTION_CONFIG,
  type SignalCreds,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
  type SignalRepositoryWithLIDStore,
} from '@whiskeysockets/baileys';

type KeyType = keyof SignalDataTypeMap;

/**
 * Baileys' key store contract over plain Maps: a simulated phone keeps its Signal state in
 * memory only, as the rest of the sim does.
 */
export class MemorySignalStore implements SignalKeyStore {
  private readonly byType = new Map<KeyType, Map<string, unknown>>();

  get<T extends KeyType>(type: T, ids: string[]): { [id: string]: SignalDataTypeMap[T] } {
    const found: { [id: string]: SignalDataTypeMap[T] } = {};
    const values = this.byType.get(type);
    if (!values) return found;
    for (const id of ids) {
      const value = values.get(id);
      if (value !== undefined) found[id] = value as SignalDataTypeMap[T];
    }
    return found;
  }

  set(data: SignalDataSet): void {
    for (const type of Object.keys(data) as KeyType[]) {
      let values = this.byType.get(type);
      if (!values) {
        values = new Map();
        this.byType.set(type, values);
      }
      for (const [id, value] of Object.entries(data[type] ?? {})) {
        if (value === null || value === undefined) values.delete(id);
        else values.set(id, value);
      }
    }
  }

  clear(): void {
    this.byType.clear();
  }
}

/** Baileys' logger contract (its `ILogger`, which the package root does not export), silent. */
type SignalLogger = Parameters<typeof addTransactionCapability>[1];
const silent: SignalLogger = {
  level: 'silent',
  child: () => silent,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Baileys' own Signal repository over `store`, as a simulated phone or a test's companion holds
 * it. Its key-store transactions run in the one shared AsyncLocalStorage: one each (Baileys'
 * own) would make every promise of the sim pay for every phone it holds (Baileys#2806).
 */
export function memorySignalRepository(
  store: MemorySignalStore,
  creds: SignalCreds,
): SignalRepositoryWithLIDStore {
  const keys = withSharedTransactionStorage(() =>
    addTransactionCapability(store, silent, { maxCommitRetries: 1, delayBetweenTriesMs: 0 }),
  );
  return DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds, keys }, silent);
}
