import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';
import { OpsController } from './ops.controller.js';
import { SessionStatusMetrics } from './session-status.metrics.js';

@Global()
@Module({
  controllers: [OpsController],
  providers: [MetricsService, SessionStatusMetrics],
  exports: [MetricsService],
})
export class OpsModule {}
