import { describe, expect, it } from '@jest/globals';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { FoldBatcher } from './fold-batcher.js';

const event = (n: number): AnyGatewayEvent =>
  ({ id: `e${n}`, sessionId: `s${n}` }) as AnyGatewayEvent;

describe('FoldBatcher', () => {
  it('writes concurrent calls as batches and settles each call with its batch', async () => {
    const batches: string[][] = [];
    const batcher = new FoldBatcher(async (events) => {
      batches.push(events.map((e) => e.id));
      await new Promise((r) => setTimeout(r, 5));
    }, 3);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.fold(event(n))));
    expect(batches).toEqual([
      ['e1', 'e2', 'e3'],
      ['e4', 'e5'],
    ]);
  });

  it('rejects every call of a failed batch, and goes on with the next', async () => {
    let calls = 0;
    const batcher = new FoldBatcher(() =>
      ++calls === 1 ? Promise.reject(new Error('db down')) : Promise.resolve(),
    );
    const first = await Promise.allSettled([batcher.fold(event(1)), batcher.fold(event(2))]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.fold(event(3))).resolves.toBeUndefined();
  });
});
