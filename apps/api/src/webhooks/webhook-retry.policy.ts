import { backoffDelay, type BackoffPolicy } from '@wagw/messaging';

/** What one attempt came to, as the sender saw it. */
export interface AttemptResult {
  /** The receiver's status; null when there was none (timeout, connection error, refused address). */
  statusCode: number | null;
  /** The receiver's `Retry-After`, in ms from now, when it sent a valid one. */
  retryAfterMs: number | null;
  /** Why there was no acceptable answer; null on success. */
  error: string | null;
  latencyMs: number;
}

export type Verdict = 'delivered' | 'retry' | 'give_up';

/**
 * 2xx is delivered. Timeouts, connection errors, 408, 429 and 5xx may pass: retried. Any
 * other status (other 4xx, and 3xx: redirects are never followed) will not: a dead letter at
 * once.
 */
export function verdict(result: AttemptResult): Verdict {
  const status = result.statusCode;
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'give_up';
}

/**
 * Delay before attempt `attempt + 1`: capped exponential backoff with equal jitter, and never
 * sooner than the receiver's `Retry-After` (itself honoured up to the cap).
 */
export function retryDelay(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const backoff = backoffDelay(attempt, policy, random);
  if (retryAfterMs === null) return backoff;
  return Math.max(backoff, Math.min(retryAfterMs, policy.capMs));
}

/** `Retry-After: 120` or an HTTP date → ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | null {
  if (header === undefined) return null;
  const text = header.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  // An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`); Date.parse alone would take `-5` for a year.
  const at = /^[A-Za-z]{3}, /.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
