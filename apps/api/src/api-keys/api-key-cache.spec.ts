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
    cache.put('p1', key);
    expect(cache.get('p1')?.id).toBe('K1');
    now += 501;
    expect(cache.get('p1')).toBeUndefined();
  });

  it('evicts a revoked key by id at once', () => {
    const cache = new ApiKeyCache(60_000);
    cache.put('p1', key);
    cache.evict('K1');
    expect(cache.get('p1')).toBeUndefined();
  });

  it('serves nothing while disabled (revocations unheard)', () => {
    const cache = new ApiKeyCache(60_000);
    cache.put('p1', key);
    cache.enabled = false;
    expect(cache.get('p1')).toBeUndefined();
  });

  it('stays bounded', () => {
    const cache = new ApiKeyCache(60_000, 2);
    cache.put('a', { ...key, id: 'A' });
    cache.put('b', { ...key, id: 'B' });
    cache.put('c', { ...key, id: 'C' });
    expect(cache.get('c')?.id).toBe('C');
    expect(cache.get('a')).toBeUndefined();
  });
});
