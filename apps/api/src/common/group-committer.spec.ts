import { describe, expect, it } from '@jest/globals';
import { GroupCommitter } from './group-committer.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('GroupCommitter', () => {
  it('gathers what arrives while a batch of the same key is in flight into the next batch', async () => {
    const batches: string[][] = [];
    const gate = deferred();
    const committer = new GroupCommitter<string, string>(async (key, items) => {
      batches.push([key, ...items]);
      if (batches.length === 1) await gate.promise;
      return items.map((item) => `${item}!`);
    });
    const first = committer.submit('org-a', 'a1');
    await new Promise((r) => setImmediate(r));
    // a1 is being written: these wait for it, then go together.
    const rest = ['a2', 'a3', 'a4'].map((item) => committer.submit('org-a', item));
    const other = committer.submit('org-b', 'b1');
    await other;
    gate.resolve();
    expect(await first).toBe('a1!');
    expect(await Promise.all(rest)).toEqual(['a2!', 'a3!', 'a4!']);
    expect(batches).toEqual([
      ['org-a', 'a1'],
      ['org-b', 'b1'],
      ['org-a', 'a2', 'a3', 'a4'],
    ]);
  });

  it('fails the whole batch with its error, and goes on with the next', async () => {
    let calls = 0;
    const committer = new GroupCommitter<number, number>((_key, items) => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(items);
    });
    const failed = [committer.submit('k', 1), committer.submit('k', 2)];
    await expect(Promise.all(failed)).rejects.toThrow('boom');
    await expect(failed[1]).rejects.toThrow('boom');
    expect(await committer.submit('k', 3)).toBe(3);
  });

  it('caps a batch, and refuses a commit that answers the wrong number of results', async () => {
    const sizes: number[] = [];
    const capped = new GroupCommitter<number, number>((_key, items) => {
      sizes.push(items.length);
      return Promise.resolve(items);
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => capped.submit('k', n)));
    expect(sizes).toEqual([2, 2, 1]);

    const short = new GroupCommitter<number, number>(() => Promise.resolve([]));
    await expect(short.submit('k', 1)).rejects.toThrow('a batch of 1 got 0 results');
  });
});
