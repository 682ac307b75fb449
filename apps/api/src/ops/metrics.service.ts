import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of this process; one registry per app instance (tests run several). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly sseClients = new Gauge({
    name: 'sse_clients',
    help: 'Event-stream (SSE) clients connected to this replica',
    registers: [this.registry],
  });
  readonly sseCutOff = new Counter({
    name: 'sse_clients_cut_off_total',
    help: 'SSE clients this replica disconnected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly sseFanOutLag = new Histogram({
    name: 'sse_fanout_lag_seconds',
    help: 'From an event happening (its occurredAt) to this replica framing it for its SSE clients',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly webhookAttempts = new Counter({
    name: 'webhook_attempts_total',
    help: 'Webhook delivery attempts made by this replica, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookAttemptDuration = new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: 'Webhook delivery attempt duration (connect to response)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly commandDuration = new Histogram({
    name: 'command_duration_seconds',
    help: 'Lifecycle commands sent to the gateways: request to reply, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly eventConsumerLag = new Histogram({
    name: 'event_consumer_lag_seconds',
    help: 'From a gateway event happening (its occurredAt) to this replica folding it',
    labelNames: ['durable'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'rate_limit_rejections_total',
    help: 'Requests refused with 429 rate_limited, by route pattern',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
