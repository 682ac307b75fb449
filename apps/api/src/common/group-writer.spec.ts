import { describe, expect, it } from '@jest/globals';
import { GroupWriter } from './group-writer.js';

describe('GroupWriter', () => {
  it('writes what arrives during a write as the next batch, each caller getting its own result', async () => {
    const batches: number[][] = [];
    const writer = new GroupWriter<number, string>(async (items) => {
      batches.push([...items]);
      await new Promise((r) => setTimeout(r, 5));
      return items.map((n) => `r${n}`);
    }, 3);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => writer.submit(n)));
    expect(results).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    // The first item is written alone (nothing waits for a batch to fill), the rest together.
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('rejects every item of a failed batch and carries on with the next', async () => {
    let calls = 0;
    const writer = new GroupWriter<number, number>((items) =>
      ++calls === 1 ? Promise.reject(new Error('db down')) : Promise.resolve([...items]),
    );
    await expect(writer.submit(1)).rejects.toThrow('db down');
    await expect(writer.submit(2)).resolves.toBe(2);
  });
});
