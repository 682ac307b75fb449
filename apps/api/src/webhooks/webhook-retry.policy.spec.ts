import { describe, expect, it } from '@jest/globals';
import {
  parseRetryAfter,
  retryDelay,
  verdict,
  type AttemptResult,
} from './webhook-retry.policy.js';

const result = (statusCode: number | null): AttemptResult => ({
  statusCode,
  retryAfterMs: null,
  error: statusCode === null ? 'ECONNREFUSED' : null,
  latencyMs: 1,
});

describe('webhook retry policy', () => {
  it('retries timeouts, connection errors, 408, 429 and 5xx; gives up on other 4xx and 3xx', () => {
    expect([200, 201, 204, 299].map((s) => verdict(result(s)))).toEqual(Array(4).fill('delivered'));
    expect([null, 408, 429, 500, 502, 503, 599].map((s) => verdict(result(s)))).toEqual(
      Array(7).fill('retry'),
    );
    expect(
      [301, 302, 307, 400, 401, 403, 404, 410, 413, 422].map((s) => verdict(result(s))),
    ).toEqual(Array(10).fill('give_up'));
  });

  it('backs off exponentially with jitter, capped', () => {
    const policy = { baseMs: 1_000, capMs: 8_000 };
    const low = () => 0;
    const high = () => 0.999999;
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelay(n, policy, null, low))).toEqual([
      500, 1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, policy, null, high))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000,
    ]);
  });

  it('never retries before Retry-After, which counts up to the cap', () => {
    const policy = { baseMs: 1_000, capMs: 60_000 };
    expect(retryDelay(1, policy, 30_000, () => 0)).toBe(30_000);
    expect(retryDelay(1, policy, 10, () => 0)).toBe(500);
    expect(retryDelay(1, policy, 3_600_000, () => 0)).toBe(60_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-06-29T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sat, 29 Jun 2024 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 29 Jun 2024 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});
