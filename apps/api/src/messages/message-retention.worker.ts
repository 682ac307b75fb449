import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ApiConfig } from '../config/api-config.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { MessagesRepository } from './messages.repository.js';

const PURGE_BATCH = 1_000;
const PURGE_EVERY_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `MESSAGE_RETENTION_DAYS` (unset: keep) and expired Idempotency-Keys: every API replica purges
 * in small batches that skip locked rows, pausing between them, so the table is never locked
 * and the replicas never wait on each other.
 */
@Injectable()
export class MessageRetentionWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MessageRetentionWorker.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(MessagesRepository) private readonly messages: MessagesRepository,
    @Inject(IdempotencyRepository) private readonly idempotency: IdempotencyRepository,
    @Inject(ApiConfig) private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purgeNow(), PURGE_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; resolves when nothing more is due. */
  purgeNow(): Promise<void> {
    this.running ??= this.pass()
      .catch((error: unknown) => this.logger.warn(`retention pass failed: ${String(error)}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    const days = this.config.MESSAGE_RETENTION_DAYS;
    let purged = 0;
    if (days !== undefined) {
      const before = Date.now() - days * DAY_MS;
      for (;;) {
        const n = await this.messages.purgeOlderThan(before, PURGE_BATCH);
        purged += n;
        if (n < PURGE_BATCH || this.stopped) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    while (!this.stopped) {
      const n = await this.idempotency.purgeExpired(this.config.IDEMPOTENCY_TTL_MS, PURGE_BATCH);
      if (n < PURGE_BATCH) break;
    }
    if (purged > 0) this.logger.log(`purged ${purged} messages older than ${days} days`);
  }
}
