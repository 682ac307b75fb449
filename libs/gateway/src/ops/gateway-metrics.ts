import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one gateway worker. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly sessionsHeld = new Gauge({
    name: 'gateway_sessions_held',
    help: 'Sessions whose lease this worker holds',
    registers: [this.registry],
  });
  readonly capacity = new Gauge({
    name: 'gateway_capacity',
    help: 'Most sessions this worker holds (GATEWAY_CAPACITY)',
    registers: [this.registry],
  });
  readonly claims = new Counter({
    name: 'gateway_claims_total',
    help: 'Sessions claimed',
    registers: [this.registry],
  });
  readonly leasesRenewed = new Counter({
    name: 'gateway_leases_renewed_total',
    help: 'Leases renewed (one per held session per renewal)',
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
  readonly driverLoadSeconds = new Gauge({
    name: 'gateway_whatsapp_driver_load_seconds',
    help: 'Time to load the WhatsApp driver ahead of the first connection (0 until loaded)',
    registers: [this.registry],
  });
  readonly eventsPending = new Gauge({
    name: 'gateway_events_pending',
    help: 'Events not yet durable in the stream',
    registers: [this.registry],
  });

  readonly sessionStatus = new Counter({
    name: 'gateway_session_status_total',
    help: 'Session status changes this worker reported, by new status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly disconnects = new Counter({
    name: 'gateway_wa_disconnects_total',
    help: 'WhatsApp connections closed, by disconnect code (the reconnect policy acts on the code)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly messagesSent = new Counter({
    name: 'gateway_messages_sent_total',
    help: 'Messages sent through WhatsApp connections, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly messagesReceived = new Counter({
    name: 'gateway_messages_received_total',
    help: 'Messages received from WhatsApp connections',
    registers: [this.registry],
  });
  readonly draining = new Gauge({
    name: 'gateway_draining',
    help: '1 while this worker drains (hands its sessions over and takes no new one)',
    registers: [this.registry],
  });

  /** Where the connect-slot gauges read from (the gateway's ConnectSlotsFactory). */
  connectSlots: {
    readonly waiting: number;
    readonly connecting: number;
    readonly loginSlots: number;
  } | null = null;
  readonly connectsWaiting: Gauge = new Gauge({
    name: 'gateway_wa_connects_waiting',
    help: 'WhatsApp connects waiting for a slot (WA_CONNECT_CONCURRENCY, WA_PAIRING_CONCURRENCY)',
    registers: [this.registry],
    collect: (): void => this.connectsWaiting.set(this.connectSlots?.waiting ?? 0),
  });
  readonly connectsInProgress: Gauge = new Gauge({
    name: 'gateway_wa_connects_in_progress',
    help: 'WhatsApp connects holding a slot: handshake and login under way',
    registers: [this.registry],
    collect: (): void => this.connectsInProgress.set(this.connectSlots?.connecting ?? 0),
  });
  readonly connectSlotsGauge: Gauge = new Gauge({
    name: 'gateway_wa_connect_slots',
    help: 'Logins allowed at once now: WA_CONNECT_CONCURRENCY, lowered while the event loop is late (WA_CONNECT_LAG_LIMIT_MS)',
    registers: [this.registry],
    collect: (): void => this.connectSlotsGauge.set(this.connectSlots?.loginSlots ?? 0),
  });

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
