import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from './backoff.policy.js';

describe('backoffDelay', () => {
  const policy = { baseMs: 100, capMs: 1_000 };

  it('doubles per attempt between half and all of the ceiling, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, policy, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, policy, () => 1))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('treats attempt 0 like attempt 1', () => {
    expect(backoffDelay(0, policy, () => 1)).toBe(100);
  });
});
