import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ApiConfig } from '../config/api-config.js';
import { ApiKeyCache } from './api-key-cache.js';
import { API_KEY_REVOKED_CHANNEL } from './api-keys.repository.js';

/**
 * Hears revocations made by any API replica (Postgres LISTEN/NOTIFY) and evicts them from this
 * replica's cache. Until it is listening, and whenever the connection drops, the cache is off, so
 * a revoked key is refused at once everywhere, including revocations made by the operator CLI.
 * A connection can also die silently (a half-open TCP connection, a NAT that forgot it): TCP
 * keepalive and a periodic query on it turn the cache off when it no longer answers.
 * The embedded database delivers notifications across its connections too (SerialWireServer).
 */
@Injectable()
export class ApiKeyRevocationListener implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeyRevocationListener.name);
  private client: pg.Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private check: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ApiConfig) private readonly config: ApiConfig,
    @Inject(ApiKeyCache) private readonly cache: ApiKeyCache,
  ) {}

  async onModuleInit(): Promise<void> {
    this.cache.enabled = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const url = (this.dataSource.options as { url?: string }).url;
    const client = new pg.Client({
      connectionString: url,
      application_name: 'wagw-api-revocations',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on('notification', (msg) => {
      if (msg.channel === API_KEY_REVOKED_CHANNEL && msg.payload) this.cache.evict(msg.payload);
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${API_KEY_REVOKED_CHANNEL}`);
      this.client = client;
      this.cache.clear();
      this.cache.enabled = true;
      this.scheduleCheck(client);
    } catch (error) {
      this.logger.warn(
        `revocation listener unavailable, API key cache off: ${(error as Error).message}`,
      );
      await client.end().catch(() => undefined);
      this.scheduleRetry();
    }
  }

  /** The connection must answer a query every interval, within the interval. */
  private scheduleCheck(client: pg.Client): void {
    const every = this.config.API_KEY_LISTENER_CHECK_MS;
    this.check = setTimeout(() => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), every);
      });
      Promise.race([client.query('SELECT 1'), timeout])
        .then(() => {
          if (this.client === client) this.scheduleCheck(client);
        })
        .catch(() => {
          this.lost(client);
          void client.end().catch(() => undefined);
        })
        .finally(() => clearTimeout(timer));
    }, every);
    this.check.unref();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    clearTimeout(this.check);
    this.client = null;
    this.cache.enabled = false;
    this.cache.clear();
    if (!this.stopped)
      this.logger.warn('revocation listener lost, API key cache off until it is back');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, 1_000);
    this.retry.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.check);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
