import { describe, expect, it } from '@jest/globals';
import { actionForClose, backoffDelay, DEFAULT_BACKOFF } from './reconnect-policy.js';

describe('actionForClose', () => {
  it.each([
    [515, 'reconnect_now'],
    [428, 'backoff'],
    [408, 'backoff'],
    [503, 'backoff'],
    [500, 'backoff'],
    [599, 'backoff'],
    [401, 'logged_out'],
    [403, 'failed'],
    [411, 'failed'],
    [405, 'failed'],
    [440, 'replaced'],
    [498, 'lease_lost'],
  ])('code %i → %s', (code, kind) => {
    expect(actionForClose(code, { pairing: false }).kind).toBe(kind);
  });

  it('ends a pairing whose QR refs ran out (408) instead of retrying it', () => {
    expect(actionForClose(408, { pairing: true }).kind).toBe('pairing_expired');
    expect(actionForClose(428, { pairing: true }).kind).toBe('backoff');
    expect(actionForClose(515, { pairing: true }).kind).toBe('reconnect_now');
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 1)).toBe(500);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 1)).toBe(2000);
    expect(backoffDelay(20, DEFAULT_BACKOFF, () => 1)).toBe(30_000);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(1000);
  });
});
