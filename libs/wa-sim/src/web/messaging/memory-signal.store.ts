import type { SignalDataSet, SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys';

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
