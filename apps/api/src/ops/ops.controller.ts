import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { unavailable } from '@wagw/domain';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators.js';
import { MetricsService } from './metrics.service.js';

const READY_TIMEOUT_MS = 2_000;

/** Probes and metrics, unauthenticated, outside `/api/v1`. */
@ApiExcludeController()
@Public()
@Controller()
export class OpsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(): Promise<{ status: 'ok'; checks: Record<string, 'ok'> }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
        }),
      ]);
    } catch {
      throw unavailable('database unreachable');
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ok', checks: { database: 'ok' } };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
