import { PoisonEventError } from '../messaging.ports.js';
import { describeError } from './messaging.logger.js';

/**
 * Why an event left its consumer without being handled: it is not a valid event, its handler
 * said it never will be (PoisonEventError), or it failed on every one of `maxDeliveries`.
 */
export type DeadLetterReason = 'malformed' | 'poison' | 'max_deliveries';

/**
 * Deliveries after which a failing event is dead-lettered. With the default redelivery backoff
 * (1 s doubling to 60 s, jittered) that is about half an hour: longer than a database failover
 * or restart, short enough that one event cannot hold a consumer slot for ever.
 */
export const DEFAULT_MAX_DELIVERIES = 50;

export type FailureVerdict = { kind: 'retry' } | { kind: 'dead_letter'; reason: DeadLetterReason };

/** What to do with an event whose handler rejected with `error` on delivery `deliveries`. */
export function verdictAfterFailure(
  error: unknown,
  deliveries: number,
  maxDeliveries: number,
): FailureVerdict {
  if (error instanceof PoisonEventError) return { kind: 'dead_letter', reason: 'poison' };
  if (deliveries >= maxDeliveries) return { kind: 'dead_letter', reason: 'max_deliveries' };
  return { kind: 'retry' };
}

/** The error as one bounded line: it travels in a NATS header and in logs. */
export function deadLetterError(error: unknown): string {
  return describeError(error)
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 500);
}
