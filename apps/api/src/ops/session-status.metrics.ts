import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SESSION_STATUSES } from '@wagw/domain';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsService } from './metrics.service.js';

/**
 * `sessions_by_status`: every organization's sessions by status, read from the database when
 * scraped (the same on every replica: aggregate with max). A failing read leaves the last values.
 */
@Injectable()
export class SessionStatusMetrics implements OnModuleInit {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const dataSource = this.dataSource;
    new Gauge({
      name: 'sessions_by_status',
      help: 'Sessions of every organization by status (from the database, at scrape time)',
      labelNames: ['status'] as const,
      registers: [this.metrics.registry],
      async collect() {
        try {
          const rows: { status: string; count: string }[] = await dataSource.query(
            'SELECT status, count(*) AS count FROM sessions GROUP BY status',
          );
          const counts = new Map(rows.map((r) => [r.status, Number(r.count)]));
          for (const status of SESSION_STATUSES) this.set({ status }, counts.get(status) ?? 0);
        } catch {
          // The database is unreachable: /readyz says so; keep the last values.
        }
      },
    });
  }
}
