/** Capped exponential backoff; `attempt` counts from 1. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * "Equal jitter": half the ceiling fixed, half random. Unlike full jitter the delay never
 * collapses to ~0, so a failing handler or a down NATS is never hammered, while replicas that
 * failed together still spread out.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
