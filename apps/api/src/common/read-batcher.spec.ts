import { describe, expect, it } from '@jest/globals';
import { ReadBatcher } from './read-batcher.js';

describe('ReadBatcher', () => {
  it('answers the reads of one turn with one fetch, each with its own value', async () => {
    const fetches: string[][] = [];
    const batcher = new ReadBatcher<string, string>(
      (keys) => {
        fetches.push([...keys]);
        return Promise.resolve(
          new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.toUpperCase()])),
        );
      },
      (k) => k,
    );
    const values = await Promise.all(['a', 'b', 'a', 'missing'].map((k) => batcher.load(k)));
    expect(values).toEqual(['A', 'B', 'A', undefined]);
    expect(fetches).toEqual([['a', 'b', 'missing']]);
    expect(await batcher.load('c')).toBe('C');
    expect(fetches).toHaveLength(2);
  });

  it('rejects every read of a failed fetch', async () => {
    const batcher = new ReadBatcher<string, string>(
      () => Promise.reject(new Error('db down')),
      (k) => k,
    );
    const results = await Promise.allSettled([batcher.load('a'), batcher.load('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('splits at the batch limit', async () => {
    const sizes: number[] = [];
    const batcher = new ReadBatcher<string, string>(
      (keys) => {
        sizes.push(keys.length);
        return Promise.resolve(new Map(keys.map((k) => [k, k])));
      },
      (k) => k,
      2,
    );
    await Promise.all(['a', 'b', 'c'].map((k) => batcher.load(k)));
    expect(sizes).toEqual([2, 1]);
  });
});
