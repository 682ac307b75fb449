import type { CacheStore } from '@whiskeysockets/baileys';
import { LRUCache } from 'lru-cache';

export interface BoundedCacheOptions {
  /** Entries kept; lru-cache allocates its slots up front, so this is memory per instance. */
  max: number;
  ttlMs: number;
  /** Keys never kept: setting one drops what was cached under it. */
  uncached?: (key: string) => boolean;
}

/**
 * Baileys' `CacheStore` as a bounded LRU: Baileys' default (NodeCache) grows without limit
 * within its TTL, and a gateway holds hundreds of sessions, each with its own caches.
 */
export class BoundedCacheStore implements CacheStore {
  private readonly lru: LRUCache<string, { value: unknown }>;
  private readonly uncached: (key: string) => boolean;

  constructor(options: BoundedCacheOptions) {
    this.lru = new LRUCache({ max: options.max, ttl: options.ttlMs });
    this.uncached = options.uncached ?? (() => false);
  }

  get<T>(key: string): T | undefined {
    // Boxed, so a cached `null` (a deleted key) is told apart from "not cached".
    return this.lru.get(key)?.value as T | undefined;
  }

  set<T>(key: string, value: T): void {
    if (this.uncached(key)) this.lru.delete(key);
    else this.lru.set(key, { value });
  }

  del(key: string): void {
    this.lru.delete(key);
  }

  flushAll(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }
}
