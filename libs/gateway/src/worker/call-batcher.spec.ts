import { describe, expect, it } from '@jest/globals';
import { CallBatcher } from './call-batcher.js';

describe('CallBatcher', () => {
  it('runs the calls of one tick as one batch, and those that arrive meanwhile as the next', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const batcher = new CallBatcher<number, string>(async (inputs) => {
      batches.push([...inputs]);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
      return inputs.map((n) => `r${n}`);
    });
    const first = Array.from({ length: 100 }, (_, n) => batcher.call(n));
    await new Promise((r) => setImmediate(r));
    const second = [batcher.call(100), batcher.call(101)];
    release();
    expect(await Promise.all([...first, ...second])).toEqual(
      Array.from({ length: 102 }, (_, n) => `r${n}`),
    );
    expect(batches.map((b) => b.length)).toEqual([100, 2]);
    // Idle again: a later call starts a batch of its own.
    expect(await batcher.call(102)).toBe('r102');
    expect(batches.map((b) => b.length)).toEqual([100, 2, 1]);
  });

  it('rejects every call of a failed batch, and the next batch runs', async () => {
    let fail = true;
    const batcher = new CallBatcher<number, number>((inputs) =>
      fail ? Promise.reject(new Error('db down')) : Promise.resolve(inputs.map((n) => n * 2)),
    );
    const failed = [batcher.call(1), batcher.call(2)];
    await expect(Promise.all(failed)).rejects.toThrow('db down');
    await expect(failed[1]).rejects.toThrow('db down');
    fail = false;
    expect(await batcher.call(3)).toBe(6);
  });
});
