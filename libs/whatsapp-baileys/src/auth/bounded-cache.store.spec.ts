import { describe, expect, it } from '@jest/globals';
import { BoundedCacheStore } from './bounded-cache.store.js';

describe('BoundedCacheStore', () => {
  it('keeps at most `max` entries, a cached null told apart from a miss', () => {
    const cache = new BoundedCacheStore({ max: 2, ttlMs: 60_000 });
    cache.set('session.a', { n: 1 });
    cache.set('session.b', null);
    expect(cache.get('session.b')).toBeNull();
    cache.set('session.c', { n: 3 });
    expect(cache.size).toBe(2);
    expect(cache.get('session.a')).toBeUndefined();
    expect(cache.get('session.c')).toEqual({ n: 3 });
  });

  it('never keeps an uncached key, and setting one drops what was cached under it', () => {
    let uncached = false;
    const cache = new BoundedCacheStore({
      max: 10,
      ttlMs: 60_000,
      uncached: (key) => uncached && key.startsWith('pre-key.'),
    });
    cache.set('pre-key.1', { private: 'k1' });
    expect(cache.get('pre-key.1')).toEqual({ private: 'k1' });
    uncached = true;
    cache.set('pre-key.2', { private: 'k2' });
    // A prekey consumed (deleted): the copy cached earlier must not answer for it any more.
    cache.set('pre-key.1', null);
    cache.set('session.x', { n: 1 });
    expect(cache.get('pre-key.2')).toBeUndefined();
    expect(cache.get('pre-key.1')).toBeUndefined();
    expect(cache.get('session.x')).toEqual({ n: 1 });
    expect(cache.size).toBe(1);
  });
});
