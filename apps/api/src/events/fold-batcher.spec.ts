import { describe, expect, it } from '@jest/globals';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { PoisonEventError } from '@wagw/messaging';
import { FoldBatcher } from './fold-batcher.js';

const event = (n: number): AnyGatewayEvent =>
  ({ id: `e${n}`, sessionId: `s${n}` }) as AnyGatewayEvent;

class DataError extends Error {}

describe('FoldBatcher', () => {
  it('writes concurrent calls as batches and settles each call with its batch', async () => {
    const batches: string[][] = [];
    const batcher = new FoldBatcher(
      async (events) => {
        batches.push(events.map((e) => e.id));
        await new Promise((r) => setTimeout(r, 5));
      },
      { maxBatch: 3 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.fold(event(n))));
    expect(batches).toEqual([
      ['e1', 'e2', 'e3'],
      ['e4', 'e5'],
    ]);
  });

  it('rejects every call of a batch that fails as a whole and one by one, and goes on', async () => {
    let down = true;
    const batcher = new FoldBatcher(() =>
      down ? Promise.reject(new Error('db down')) : Promise.resolve(),
    );
    const first = await Promise.allSettled([batcher.fold(event(1)), batcher.fold(event(2))]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // An outage is not the events' fault: they come back, not as poison.
    for (const r of first)
      expect((r as PromiseRejectedResult).reason).not.toBeInstanceOf(PoisonEventError);
    down = false;
    await expect(batcher.fold(event(3))).resolves.toBeUndefined();
  });

  it('retries a failed batch one event at a time: the good events pass, the bad one is poison', async () => {
    const writes: string[][] = [];
    const batcher = new FoldBatcher(
      (events) => {
        writes.push(events.map((e) => e.id));
        return events.some((e) => e.id === 'e2')
          ? Promise.reject(new DataError('invalid input syntax for type bigint'))
          : Promise.resolve();
      },
      { isPoison: (error) => error instanceof DataError },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.fold(event(n))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason as Error;
    expect(reason).toBeInstanceOf(PoisonEventError);
    expect(reason.cause).toBeInstanceOf(DataError);
    expect(writes).toEqual([['e1', 'e2', 'e3'], ['e1'], ['e2'], ['e3']]);
  });
});
