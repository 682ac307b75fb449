import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FixedTtlQueue } from './fixed-ttl.queue.js';

describe('FixedTtlQueue', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('expires keys in insertion order, exactly at their TTL, with one timer', () => {
    const expired: string[] = [];
    const queue = new FixedTtlQueue<string>(40, (key) => expired.push(key));
    expect(queue.add('a')).toBe(Date.now() + 40);
    jest.advanceTimersByTime(10);
    queue.add('b');
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(29);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    jest.advanceTimersByTime(9);
    expect(expired).toEqual(['a']);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a', 'b']);
    expect(queue.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('re-adding restarts a key’s TTL; deleting cancels it', () => {
    const expired: string[] = [];
    const queue = new FixedTtlQueue<string>(40, (key) => expired.push(key));
    queue.add('a');
    queue.add('b');
    jest.advanceTimersByTime(25);
    queue.add('a');
    queue.delete('b');
    jest.advanceTimersByTime(39);
    expect(expired).toEqual([]);
    expect(queue.expiresAt('b')).toBeUndefined();
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
  });

  it('lets onExpire re-add the key (rotation) without looping', () => {
    let rotations = 0;
    const queue: FixedTtlQueue<string> = new FixedTtlQueue<string>(15, (key) => {
      rotations++;
      if (rotations < 3) queue.add(key);
    });
    queue.add('conn');
    jest.advanceTimersByTime(15);
    expect(rotations).toBe(1);
    jest.advanceTimersByTime(100);
    expect(rotations).toBe(3);
    expect(queue.size).toBe(0);
  });
});
