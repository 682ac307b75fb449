import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { isId, newId } from './ids.js';

describe('ids', () => {
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('makes sortable, valid ULIDs', () => {
    const ids = Array.from({ length: 100 }, () => newId());
    expect(ids.every(isId)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(100);
  });

  it('draws its randomness from the system RNG a block at a time, not a call per character', () => {
    const rng = jest.spyOn(globalThis.crypto, 'getRandomValues');
    // Later than any id made so far: a clock behind the last id only increments its random part.
    jest.useFakeTimers({ now: Date.UTC(2100, 0, 1) });
    const ids: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      jest.advanceTimersByTime(1); // a new millisecond: a fresh random part each time
      ids.push(newId());
    }
    // The default source: 16 calls per id (16,000 here); pooled: about one per 256 ids.
    expect(rng.mock.calls.length).toBeLessThanOrEqual(5);
    expect(new Set(ids.map((id) => id.slice(10))).size).toBe(1_000);
    expect([...ids].sort()).toEqual(ids);
    // Each id's random part is fresh (not the last one incremented): even its first character,
    // which an increment would leave alone, takes all 32 symbols over 1,000 ids.
    expect(new Set(ids.map((id) => id[10])).size).toBe(32);
  });

  it('rejects non-ULIDs', () => {
    expect(isId('not-a-ulid')).toBe(false);
    expect(isId('01J9ZX8K2QHV0M3T6R7P4N5W8U')).toBe(false); // U is not Crockford base32
    expect(isId('01J9ZX8K2QHV0M3T6R7P4N5W8')).toBe(false);
  });
});
