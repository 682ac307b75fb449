import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one gateway worker. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly sessionsHeld = new Gauge({
    name: 'gateway_sessions_held',
    help: 'Sessions whose lease this worker holds',
    registers: [this.registry],
  });
  readonly claims = new Counter({
    name: 'gateway_claims_total',
    help: 'Sessions claimed',
    registers: [this.registry],
  });
  readonly leasesLost = new Counter({
    name: 'gateway_leases_lost_total',
    help: 'Leases found lost at renewal or by self-fencing',
    labelNames: ['why'] as const,
    registers: [this.registry],
  });
  readonly renewDuration = new Histogram({
    name: 'gateway_lease_renew_duration_seconds',
    help: 'Duration of one batched lease renewal',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly eventsPending = new Gauge({
    name: 'gateway_events_pending',
    help: 'Events not yet durable in the stream',
    registers: [this.registry],
  });

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
