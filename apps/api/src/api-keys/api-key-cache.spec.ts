import { describe, expect, it } from '@jest/globals';
import { ApiKeyCache } from './api-key-cache.js';

const key = {
  id: 'K1',
  organizationId: 'org',
  capabilities: ['send'] as const,
  secretHash: Buffer.alloc(32),
};

describe('ApiKeyCache', () => {
  it('serves a key until its ttl, then forgets it', () => {
    let now = 1_000;
    const cache = new ApiKeyCache(500, 10, () => now);
    cache.put('p1', key, cache.generation);
    expect(cache.get('p1')?.id).toBe('K1');
    now += 501;
    expect(cache.get('p1')).toBeUndefined();
  });

  it('evicts a revoked key by id at once', () => {
    const cache = new ApiKeyCache(60_000);
    cache.put('p1', key, cache.generation);
    cache.evict('K1');
    expect(cache.get('p1')).toBeUndefined();
  });

  it('serves nothing while disabled (revocations unheard)', () => {
    const cache = new ApiKeyCache(60_000);
    cache.put('p1', key, cache.generation);
    cache.enabled = false;
    expect(cache.get('p1')).toBeUndefined();
  });

  it('does not cache a key whose revocation was heard while it was being read', () => {
    const cache = new ApiKeyCache(60_000);
    const generation = cache.generation; // the reader starts its database read
    cache.evict('K1'); // the revocation arrives meanwhile: K1 is not cached yet
    cache.put('p1', key, generation); // the read returns the (now revoked) key
    expect(cache.get('p1')).toBeUndefined();
    cache.put('p1', key, cache.generation); // a read that started after it is cached
    expect(cache.get('p1')?.id).toBe('K1');
  });

  it('stays bounded', () => {
    const cache = new ApiKeyCache(60_000, 2);
    cache.put('a', { ...key, id: 'A' }, cache.generation);
    cache.put('b', { ...key, id: 'B' }, cache.generation);
    cache.put('c', { ...key, id: 'C' }, cache.generation);
    expect(cache.get('c')?.id).toBe('C');
    expect(cache.get('a')).toBeUndefined();
  });
});
