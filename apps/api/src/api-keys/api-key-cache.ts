import type { Capability } from '@wagw/domain';

export interface CachedApiKey {
  id: string;
  organizationId: string;
  capabilities: readonly Capability[];
  secretHash: Buffer;
  cachedAt: number;
}

/**
 * Active API keys by prefix, so an authenticated request needs no key query. Entries live
 * `ttlMs` at most; revocations evict at once (locally, and from other replicas via
 * `ApiKeyRevocationListener`). While revocations cannot be heard, `enabled` is false and every
 * lookup goes to the database: a stale cache must never let a revoked key in.
 */
export class ApiKeyCache {
  private readonly byPrefix = new Map<string, CachedApiKey>();
  private readonly prefixById = new Map<string, string>();
  private enabledFlag = true;
  /**
   * +1 on every eviction, clear or switch. A reader takes it before reading a key from the
   * database and hands it to `put`: a revocation heard while the read was in flight (for a key
   * not yet cached) makes that put a no-op instead of caching the revoked key for a whole TTL.
   */
  generation = 0;

  get enabled(): boolean {
    return this.enabledFlag;
  }

  set enabled(value: boolean) {
    this.enabledFlag = value;
    this.generation += 1;
  }

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(prefix: string): CachedApiKey | undefined {
    if (!this.enabled || this.ttlMs === 0) return undefined;
    const entry = this.byPrefix.get(prefix);
    if (entry && this.now() - entry.cachedAt > this.ttlMs) {
      this.evict(entry.id);
      return undefined;
    }
    return entry;
  }

  put(prefix: string, key: Omit<CachedApiKey, 'cachedAt'>, generation: number): void {
    if (!this.enabled || this.ttlMs === 0 || generation !== this.generation) return;
    if (this.byPrefix.size >= this.maxEntries) this.clear();
    this.byPrefix.set(prefix, { ...key, cachedAt: this.now() });
    this.prefixById.set(key.id, prefix);
  }

  evict(keyId: string): void {
    this.generation += 1;
    const prefix = this.prefixById.get(keyId);
    if (prefix === undefined) return;
    this.prefixById.delete(keyId);
    this.byPrefix.delete(prefix);
  }

  clear(): void {
    this.generation += 1;
    this.byPrefix.clear();
    this.prefixById.clear();
  }
}
