import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { newId } from '@wagw/domain';
import type { EventStream } from '@wagw/messaging';
import { ApiConfig } from '../config/api-config.js';
import { EVENT_STREAM } from '../messaging/messaging.tokens.js';
import { MetricsService } from '../ops/metrics.service.js';
import {
  type ClaimedDelivery,
  type DisabledWebhook,
  WebhookDeliveriesRepository,
} from './webhook-deliveries.repository.js';
import { retryDelay, verdict } from './webhook-retry.policy.js';
import { WebhookSender } from './webhook-sender.js';
import { signedHeaders } from './webhook-signature.js';

/** Extra time a claim outlives an attempt's timeout before another replica may retry it. */
const CLAIM_MARGIN_MS = 15_000;
const PURGE_EVERY_MS = 10 * 60 * 1000;

/**
 * Every API replica runs one: it claims due deliveries from the Postgres queue (up to
 * WEBHOOK_CONCURRENCY in flight), signs and sends them, and records the outcome: delivered,
 * retried with backoff (Retry-After honoured), or a dead letter. Woken at once by the intake
 * and by each finished attempt (the next delivery of that session may be due), and by a poll
 * for retries coming due and for work queued on other replicas.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private loop: Promise<void> | null = null;
  private woken = false;
  private wakeup: (() => void) | null = null;
  private timedWake: { at: number; timer: NodeJS.Timeout } | null = null;
  private lastPurge = Date.now();
  private lastSweep = 0;

  constructor(
    @Inject(ApiConfig) private readonly config: ApiConfig,
    @Inject(WebhookDeliveriesRepository) private readonly deliveries: WebhookDeliveriesRepository,
    @Inject(WebhookSender) private readonly sender: WebhookSender,
    @Inject(EVENT_STREAM) private readonly stream: EventStream,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop.abort();
    if (this.timedWake) clearTimeout(this.timedWake.timer);
    this.wake();
    await this.loop;
    // Attempts under way finish (each is bounded by WEBHOOK_TIMEOUT_MS) and are recorded.
    await Promise.allSettled(this.inFlight);
    this.sender.close();
  }

  /** Something may be due now. */
  wake(): void {
    this.woken = true;
    this.wakeup?.();
  }

  /** A retry this replica scheduled comes due sooner than the next poll: be there. */
  private wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (ms >= this.config.WEBHOOK_POLL_MS || (this.timedWake && this.timedWake.at <= at)) return;
    if (this.timedWake) clearTimeout(this.timedWake.timer);
    const timer = setTimeout(() => {
      this.timedWake = null;
      this.wake();
    }, ms);
    timer.unref();
    this.timedWake = { at, timer };
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      const free = this.config.WEBHOOK_CONCURRENCY - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const batch = await this.deliveries.claim(
            free,
            this.config.WEBHOOK_TIMEOUT_MS + CLAIM_MARGIN_MS,
          );
          claimed = batch.length;
          for (const delivery of batch) this.track(this.attempt(delivery));
        } catch (error) {
          this.logger.warn(`claiming webhook deliveries failed: ${(error as Error).message}`);
        }
      }
      await this.purgeNowAndThen();
      await this.unblockNowAndThen();
      // A full batch may mean more is due: go again (once a slot is free) without waiting.
      if (claimed > 0 && claimed === free) this.woken = true;
      if (this.inFlight.size >= this.config.WEBHOOK_CONCURRENCY) this.woken = false;
      await this.sleep(this.config.WEBHOOK_POLL_MS);
    }
  }

  private track(attempt: Promise<void>): void {
    const tracked = attempt.finally(() => {
      this.inFlight.delete(tracked);
      this.wake();
    });
    this.inFlight.add(tracked);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    try {
      const headers = signedHeaders(delivery.id, new Date(), delivery.payload, delivery.secrets);
      const result = await this.sender.send(delivery.url, headers, delivery.payload);
      const outcome = verdict(result);
      this.metrics.webhookAttemptDuration.observe(result.latencyMs / 1000);
      const retry = outcome === 'retry' && delivery.attempts < this.config.WEBHOOK_MAX_ATTEMPTS;
      const retryInMs = retry
        ? retryDelay(
            delivery.attempts,
            {
              baseMs: this.config.WEBHOOK_RETRY_BASE_MS,
              capMs: this.config.WEBHOOK_RETRY_MAX_DELAY_MS,
            },
            result.retryAfterMs,
          )
        : 0;
      const recorded = await this.deliveries.record(
        delivery,
        result,
        outcome === 'delivered' ? 'delivered' : retry ? { retryInMs } : 'failed',
      );
      if (retry) this.wakeIn(retryInMs);
      this.metrics.webhookAttempts.inc({
        outcome: outcome === 'delivered' ? 'delivered' : retry ? 'retry' : 'dead_letter',
      });
      if (!recorded) return; // the claim ran out meanwhile: another attempt owns the outcome
      if (outcome === 'delivered') {
        // Most deliveries go to healthy webhooks: no write for them.
        if (delivery.failing) await this.deliveries.markHealthy(delivery.webhookId);
        return;
      }
      const disabled = await this.deliveries.markFailing(
        delivery.webhookId,
        this.config.WEBHOOK_DISABLE_AFTER_MS,
      );
      if (disabled) this.announceDisabled(disabled);
    } catch (error) {
      // The database failed us: the claim runs out and the delivery is attempted again.
      this.logger.warn(`webhook delivery ${delivery.id}: ${(error as Error).message}`);
    }
  }

  /** Tells the organization, on its event stream and its other webhooks. */
  private announceDisabled(webhook: DisabledWebhook): void {
    this.logger.warn(
      `webhook ${webhook.id} disabled: failing since ${webhook.failingSince.toISOString()}`,
    );
    this.stream
      .publish({
        id: newId(),
        type: 'webhook.disabled',
        organizationId: webhook.organizationId,
        sessionId: null,
        occurredAt: Date.now(),
        data: {
          webhookId: webhook.id,
          url: webhook.url,
          reason: 'failing',
          failingSince: webhook.failingSince.getTime(),
        },
      })
      .catch((error: unknown) =>
        this.logger.error(`webhook.disabled event for ${webhook.id} lost: ${String(error)}`),
      );
  }

  /** Once per poll: deliveries left waiting behind a head that finished as they were queued. */
  private async unblockNowAndThen(): Promise<void> {
    if (Date.now() - this.lastSweep < this.config.WEBHOOK_POLL_MS) return;
    this.lastSweep = Date.now();
    try {
      if ((await this.deliveries.unblockOrphans()) > 0) this.woken = true;
    } catch (error) {
      this.logger.warn(`unblocking webhook deliveries failed: ${(error as Error).message}`);
    }
  }

  private async purgeNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    try {
      await this.deliveries.purge(this.config.WEBHOOK_DELIVERY_RETENTION_MS);
    } catch (error) {
      this.logger.warn(`purging old webhook deliveries failed: ${(error as Error).message}`);
    }
  }

  private async sleep(ms: number): Promise<void> {
    if (this.woken || this.stop.signal.aborted) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeup = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeup = done;
    });
    this.woken = false;
  }
}
