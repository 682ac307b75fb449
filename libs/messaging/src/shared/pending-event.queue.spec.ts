import { describe, expect, it } from '@jest/globals';
import { PendingEventQueue } from './pending-event.queue.js';

describe('PendingEventQueue', () => {
  it('is FIFO across compactions', () => {
    const queue = new PendingEventQueue<number>();
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3_000; i++) queue.push(next++);
      while (queue.size > 500) {
        expect(queue.peek()).toBe(out.length);
        out.push(queue.shift() ?? -1);
      }
    }
    while (queue.size > 0) out.push(queue.shift() ?? -1);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });
});
