import type { WaAuthStore } from './whatsapp-connection.port.js';

/**
 * The port's auth store in memory, as the gateway's Postgres one behaves minus encryption and
 * fencing: for tests and benchmarks that run an adapter without a database.
 */
export class MemoryAuthStore implements WaAuthStore {
  creds: string | null = null;
  readonly keys = new Map<string, string>();

  readCreds(): Promise<string | null> {
    return Promise.resolve(this.creds);
  }

  writeCreds(creds: string): Promise<void> {
    this.creds = creds;
    return Promise.resolve();
  }

  readKeys(type: string, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of ids) {
      const v = this.keys.get(`${type}/${id}`);
      if (v !== undefined) out.set(id, v);
    }
    return Promise.resolve(out);
  }

  writeKeys(entries: readonly { type: string; id: string; value: string | null }[]): Promise<void> {
    for (const e of entries) {
      if (e.value === null) this.keys.delete(`${e.type}/${e.id}`);
      else this.keys.set(`${e.type}/${e.id}`, e.value);
    }
    return Promise.resolve();
  }

  clear(): Promise<void> {
    this.creds = null;
    this.keys.clear();
    return Promise.resolve();
  }

  /**
   * What it holds, in characters: creds, key names and values (ASCII JSON, so V8 keeps them at
   * one byte per character).
   */
  get size(): number {
    let n = this.creds?.length ?? 0;
    for (const [k, v] of this.keys) n += k.length + v.length;
    return n;
  }
}
