import { describe, expect, it, jest } from '@jest/globals';
import { InboundAckGate } from './inbound-ack.gate.js';

const setup = (timeoutMs = 10_000) => {
  const wire: unknown[] = [];
  const gate = new InboundAckGate(
    (data, cb) => {
      wire.push(data);
      cb?.();
    },
    timeoutMs,
    () => undefined,
  );
  return { wire, gate };
};

describe('InboundAckGate', () => {
  it('passes frames straight through while no inbound message is pending', () => {
    const { wire, gate } = setup();
    gate.frame('a');
    gate.arrived('m1');
    gate.settle('m1');
    gate.frame('b');
    expect(wire).toEqual(['a', 'b']);
  });

  it('holds every frame written after a message arrived until it is settled, in order, and says they were written', async () => {
    const { wire, gate } = setup();
    gate.arrived('m1');
    const written = jest.fn();
    gate.frame('receipt m1', written);
    gate.frame('ping');
    await new Promise((r) => process.nextTick(r));
    expect(written).toHaveBeenCalledWith();
    expect(wire).toEqual([]);
    expect(gate.heldFrames).toBe(2);
    gate.settle('m1');
    expect(wire).toEqual(['receipt m1', 'ping']);
  });

  it('releases a frame once the messages before it are settled, whatever came after', () => {
    const { wire, gate } = setup();
    gate.arrived('m1');
    gate.frame('receipt m1');
    gate.arrived('m2');
    gate.frame('receipt m2');
    gate.settle('m2');
    expect(wire).toEqual([]);
    gate.settle('m1');
    expect(wire).toEqual(['receipt m1', 'receipt m2']);
    // A frame behind an unsettled later message waits for it, frames keep their order.
    gate.arrived('m3');
    gate.frame('receipt m3');
    gate.arrived('m4');
    gate.settle('m3');
    expect(wire).toEqual(['receipt m1', 'receipt m2', 'receipt m3']);
    gate.frame('after m4');
    expect(wire).toHaveLength(3);
    gate.settle('m4');
    expect(wire).toEqual(['receipt m1', 'receipt m2', 'receipt m3', 'after m4']);
  });

  it('gives up on a message that never reaches the listener after the timeout', () => {
    jest.useFakeTimers();
    try {
      const { wire, gate } = setup(1_000);
      gate.arrived('never');
      gate.frame('retry receipt');
      jest.advanceTimersByTime(999);
      expect(wire).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(wire).toEqual(['retry receipt']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends nothing held, nor anything after, once discarded (the connection ends unacknowledged)', async () => {
    const { wire, gate } = setup();
    gate.arrived('m1');
    gate.frame('receipt m1');
    gate.discard();
    gate.settle('m1');
    const failed = new Promise<Error | undefined>((r) => gate.frame('later', r));
    expect(await failed).toBeInstanceOf(Error);
    expect(wire).toEqual([]);
  });

  it('counts a redelivered id still pending once', () => {
    const { wire, gate } = setup();
    gate.arrived('m1');
    gate.arrived('m1');
    gate.frame('x');
    gate.settle('m1');
    expect(wire).toEqual(['x']);
  });

  it('stores decryption state only once the messages before it are handed over, in order; drops it when the connection ends first', async () => {
    const { gate } = setup();
    const stored: string[] = [];
    const write = (what: string) => () => {
      stored.push(what);
      return Promise.resolve();
    };
    gate.afterHandOver(write('idle'));
    await gate.written();
    expect(stored).toEqual(['idle']);

    gate.arrived('m1');
    gate.afterHandOver(write('session after m1'));
    gate.arrived('m2');
    gate.afterHandOver(write('session after m2'));
    await gate.written();
    expect(stored).toEqual(['idle']);
    gate.settle('m2');
    await gate.written();
    // m1 still pending: nothing after it may be stored yet.
    expect(stored).toEqual(['idle']);
    gate.settle('m1');
    await gate.written();
    expect(stored).toEqual(['idle', 'session after m1', 'session after m2']);

    gate.arrived('m3');
    gate.afterHandOver(write('session after m3'));
    gate.discard();
    gate.settle('m3');
    gate.afterHandOver(write('after the end'));
    await gate.written();
    expect(stored).toEqual(['idle', 'session after m1', 'session after m2']);
  });

  it('tells a sender when its held frame reached the socket, or that it never will', async () => {
    const { wire, gate } = setup();
    await expect(gate.flushed()).resolves.toBeUndefined();
    gate.arrived('m1');
    gate.frame('outgoing message');
    let sent = false;
    const flushed = gate.flushed().then(() => (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    gate.settle('m1');
    await flushed;
    expect(wire).toEqual(['outgoing message']);

    gate.arrived('m2');
    gate.frame('lost with the connection');
    const lost = gate.flushed();
    gate.discard();
    await expect(lost).rejects.toThrow('the connection is closing');
    // Written after the end, a frame is refused at once (its writer sees the error then).
    const refused = jest.fn();
    gate.frame('too late', refused);
    await new Promise((r) => process.nextTick(r));
    expect(refused).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'the connection is closing' }),
    );
    expect(wire).toEqual(['outgoing message']);
  });
});
