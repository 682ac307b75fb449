import { describe, expect, it } from '@jest/globals';
import { EventRing, type HubEvent } from './event-ring.js';

const ev = (seq: number): HubEvent => ({
  seq,
  organizationId: 'o',
  sessionId: null,
  type: 'session.status',
  chunk: `${seq}`,
});

describe('EventRing', () => {
  it('replays what follows a position, and covers from the oldest event kept', () => {
    const ring = new EventRing(3, 5);
    expect([...ring.after(4)]).toEqual([]);
    ring.push(ev(5));
    ring.push(ev(7)); // positions may skip (a malformed message is not held)
    expect([...ring.after(4)].map((e) => e.seq)).toEqual([5, 7]);
    expect([...ring.after(5)].map((e) => e.seq)).toEqual([7]);
    expect(ring.coveredFrom).toBe(5);
    ring.push(ev(8));
    ring.push(ev(9));
    expect(ring.coveredFrom).toBe(6);
    expect([...ring.after(0)].map((e) => e.seq)).toEqual([7, 8, 9]);
    ring.push(ev(10));
    expect(ring.coveredFrom).toBe(8);
    expect([...ring.after(8)].map((e) => e.seq)).toEqual([9, 10]);
    expect([...ring.after(10)]).toEqual([]);
  });
});
