import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DomainError } from '@wagw/domain';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators.js';
import { NATS_HEALTH, type NatsHealth } from '../messaging/messaging.tokens.js';
import { MetricsService } from './metrics.service.js';

type Check = 'ok' | 'failing';

const READY_TIMEOUT_MS = 2_000;

/** Probes and metrics, unauthenticated, outside `/api/v1`. */
@ApiExcludeController()
@Public()
@Controller()
export class OpsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(NATS_HEALTH) private readonly nats: NatsHealth | null,
  ) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready when the database answers and, in the distributed setup, NATS is connected: without
   * it no command reaches a gateway and no event is folded. 503 names what is failing.
   */
  @Get('readyz')
  async readyz(): Promise<{ status: 'ok'; checks: Record<string, Check> }> {
    const checks: Record<string, Check> = { database: await this.database() };
    if (this.nats) checks.nats = this.nats.connected ? 'ok' : 'failing';
    const failing = Object.keys(checks).filter((name) => checks[name] !== 'ok');
    if (failing.length > 0) {
      throw new DomainError('unavailable', `not ready: ${failing.join(', ')}`, {
        checks,
      });
    }
    return { status: 'ok', checks };
  }

  private async database(): Promise<Check> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
        }),
      ]);
      return 'ok';
    } catch {
      return 'failing';
    } finally {
      clearTimeout(timer);
    }
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
