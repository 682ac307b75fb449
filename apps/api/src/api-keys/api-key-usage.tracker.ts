import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ApiConfig } from '../config/api-config.js';
import { ApiKeysRepository } from './api-keys.repository.js';

/** Keeps `lastUsedAt` without a write per request: marks in memory, one batched UPDATE per period. */
@Injectable()
export class ApiKeyUsageTracker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsageTracker.name);
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ApiKeysRepository) private readonly repository: ApiKeysRepository,
    @Inject(ApiConfig) private readonly config: ApiConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.API_KEY_USAGE_FLUSH_MS);
    this.timer.unref();
  }

  record(keyId: string): void {
    this.pending.set(keyId, new Date());
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.repository.markUsed(batch);
    } catch (error) {
      // Keep the marks for the next round unless newer ones arrived meanwhile.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      this.logger.warn(`could not record API key usage: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
