import { describe, expect, it } from '@jest/globals';
import { TransactionStorageSlot } from './shared-transaction-storage.js';

describe('TransactionStorageSlot', () => {
  it('behaves as an AsyncLocalStorage of its own: nested slots, async continuations, exit', async () => {
    const a = new TransactionStorageSlot<string>();
    const b = new TransactionStorageSlot<string>();
    expect(a.getStore()).toBeUndefined();
    const seen = await a.run('tx-a', async () => {
      await new Promise((r) => setTimeout(r, 1));
      const inner = await b.run('tx-b', async () => {
        await Promise.resolve();
        return [a.getStore(), b.getStore(), a.exit(() => [a.getStore(), b.getStore()])];
      });
      return [a.getStore(), b.getStore(), inner];
    });
    expect(seen).toEqual(['tx-a', undefined, ['tx-a', 'tx-b', [undefined, 'tx-b']]]);
    expect([a.getStore(), b.getStore()]).toEqual([undefined, undefined]);
  });

  it('keeps concurrent runs of one slot apart', async () => {
    const slot = new TransactionStorageSlot<number>();
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        slot.run(n, async () => {
          await new Promise((r) => setTimeout(r, 5 - n));
          return slot.getStore();
        }),
      ),
    );
    expect(results).toEqual([1, 2, 3]);
  });
});
