import type { AnyGatewayEvent } from '@wagw/contracts';
import type { EventPublisher } from '@wagw/messaging';
import type { GatewayMetrics } from './gateway-metrics.js';

/** The worker's publisher, counting the session status changes it reports. */
export function meteredEventPublisher(
  inner: EventPublisher,
  metrics: GatewayMetrics,
): EventPublisher {
  return {
    publish(event: AnyGatewayEvent): void {
      if (event.type === 'session.status') metrics.sessionStatus.inc({ status: event.data.status });
      inner.publish(event);
    },
    publishDurably(event: AnyGatewayEvent): Promise<void> {
      if (event.type === 'session.status') metrics.sessionStatus.inc({ status: event.data.status });
      return inner.publishDurably(event);
    },
    flush: (timeoutMs) => inner.flush(timeoutMs),
    get pending() {
      return inner.pending;
    },
    get backlogged() {
      return inner.backlogged;
    },
    close: () => inner.close(),
  };
}
