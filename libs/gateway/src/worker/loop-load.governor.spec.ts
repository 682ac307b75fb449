import { describe, expect, it } from '@jest/globals';
import { eventLoopDelayReader, LoopLoadGovernor } from './loop-load.governor.js';

describe('LoopLoadGovernor', () => {
  it('halves the connects while the loop is late, and grows them back one by one', () => {
    const delays = [900, 900, 900, 400, 100, 100, 100];
    const logins = { concurrency: 32 };
    const pairings = { concurrency: 2 };
    const governor = new LoopLoadGovernor(
      [
        { limit: logins, max: 32 },
        { limit: pairings, max: 2 },
      ],
      500,
      { read: () => delays.shift() ?? 0, stop: () => undefined },
    );
    const seen: number[][] = [];
    for (let i = 0; i < 7; i++) {
      governor.tick();
      seen.push([logins.concurrency, pairings.concurrency]);
    }
    // Over the limit: halved; between half and the limit: held; under half: one more.
    expect(seen).toEqual([
      [16, 1],
      [8, 1],
      [4, 1],
      [4, 1],
      [5, 2],
      [6, 2],
      [7, 2],
    ]);
  });

  it('reads a blocked event loop as a delay', async () => {
    const delay = eventLoopDelayReader();
    await new Promise((r) => setTimeout(r, 50));
    delay.read();
    const until = Date.now() + 150;
    while (Date.now() < until) {
      /* block the loop */
    }
    await new Promise((r) => setTimeout(r, 50));
    const blocked = delay.read();
    expect(blocked).toBeGreaterThanOrEqual(100);
    // A read starts over: the block is not counted again.
    await new Promise((r) => setTimeout(r, 50));
    expect(delay.read()).toBeLessThan(blocked);
    delay.stop();
  });
});
