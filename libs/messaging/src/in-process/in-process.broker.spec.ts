import { describe, expect, it } from '@jest/globals';
import { Commands } from '@wagw/contracts';
import { InProcessBroker } from './in-process.broker.js';

const ok = () => Promise.resolve({ ok: true as const, reply: null });

describe('InProcessBroker', () => {
  it('drops a re-appended event id within the duplicate window', () => {
    const broker = new InProcessBroker();
    expect(broker.append('a', '{}')).toBe(1);
    expect(broker.append('a', '{}')).toBeNull();
    expect(broker.append('b', '{}')).toBe(2);
  });

  it('keeps about maxRetainedEvents, and a durable created later starts at the oldest kept', async () => {
    const broker = new InProcessBroker({ maxRetainedEvents: 10 });
    for (let i = 1; i <= 25; i++) broker.append(`e${i}`, `"${i}"`);
    expect(broker.lastSeq).toBe(25);
    expect(broker.lastSeq - broker.firstSeq + 1).toBeGreaterThanOrEqual(10);
    expect(broker.lastSeq - broker.firstSeq + 1).toBeLessThanOrEqual(11);
    const first = await broker.durable('d').next(new AbortController().signal);
    expect(first?.seq).toBe(broker.firstSeq);
  });

  it('redelivers a nak after its delay to whichever member asks', async () => {
    const broker = new InProcessBroker();
    broker.append('e1', '"1"');
    const group = broker.durable('d');
    const signal = new AbortController().signal;
    const first = await group.next(signal);
    expect(first).toEqual({ seq: 1, data: '"1"', deliveryCount: 1 });
    group.nak(1, 30);
    const again = await group.next(signal);
    expect(again).toEqual({ seq: 1, data: '"1"', deliveryCount: 2 });
    group.ack(1);
    group.dispose();
  });

  it('round-robins fleet commands and refuses a second server for one gateway id', () => {
    const broker = new InProcessBroker();
    const a = () => ok();
    const b = () => ok();
    broker.serve('gw-a', [{ command: Commands.claim, handle: a }]);
    broker.serve('gw-b', [{ command: Commands.claim, handle: b }]);
    expect([1, 2, 3, 4].map(() => broker.route(Commands.claim, undefined))).toEqual([a, b, a, b]);

    const unserve = broker.serve('gw-a', [{ command: Commands.stop, handle: a }]);
    expect(() => broker.serve('gw-a', [{ command: Commands.stop, handle: b }])).toThrow(
      /already serves/,
    );
    expect(broker.route(Commands.stop, 'gw-a')).toBe(a);
    expect(broker.route(Commands.stop, 'gw-b')).toBeUndefined();
    unserve();
    expect(broker.route(Commands.stop, 'gw-a')).toBeUndefined();
  });
});
