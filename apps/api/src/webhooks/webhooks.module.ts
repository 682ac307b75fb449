import { Module } from '@nestjs/common';
import { ApiConfig } from '../config/api-config.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { NetworkPolicy } from './network-policy.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { WebhookIntakeRepository } from './webhook-intake.repository.js';
import { WebhookIntake } from './webhook-intake.service.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhookUrlValidator } from './webhook-url.validator.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

@Module({
  imports: [SessionsModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksRepository,
    WebhookDeliveriesRepository,
    WebhookIntakeRepository,
    WebhooksService,
    WebhookUrlValidator,
    WebhookDeliveryWorker,
    WebhookIntake,
    {
      provide: NetworkPolicy,
      inject: [ApiConfig],
      useFactory: (config: ApiConfig) =>
        NetworkPolicy.fromConfig(config.WEBHOOK_ALLOW_PRIVATE_NETWORKS),
    },
    {
      provide: WebhookSender,
      inject: [NetworkPolicy, ApiConfig],
      useFactory: (policy: NetworkPolicy, config: ApiConfig) =>
        new WebhookSender(policy, {
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          maxResponseBytes: config.WEBHOOK_MAX_RESPONSE_BYTES,
        }),
    },
  ],
})
export class WebhooksModule {}
