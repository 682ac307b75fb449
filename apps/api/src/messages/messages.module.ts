import { Module } from '@nestjs/common';
import { ChannelsController } from '../channels/channels.controller.js';
import { ApiConfig } from '../config/api-config.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { NetworkPolicy } from '../webhooks/network-policy.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { MediaFetcher } from './media-fetcher.js';
import { MessageRetentionWorker } from './message-retention.worker.js';
import { MessageSenderService } from './message-sender.service.js';
import { MessageStore } from './message-store.js';
import { MessagesController } from './messages.controller.js';
import { MessagesRepository } from './messages.repository.js';
import { SendRateLimiter } from './send-rate.limiter.js';
import { StoredMessagesService } from './stored-messages.service.js';

@Module({
  imports: [SessionsModule],
  controllers: [MessagesController, ChannelsController],
  providers: [
    MessagesRepository,
    MessageStore,
    StoredMessagesService,
    MessageSenderService,
    SendRateLimiter,
    IdempotencyRepository,
    MessageRetentionWorker,
    {
      provide: MediaFetcher,
      inject: [ApiConfig],
      useFactory: (config: ApiConfig) =>
        new MediaFetcher(NetworkPolicy.fromConfig(config.MEDIA_ALLOW_PRIVATE_NETWORKS), {
          timeoutMs: config.MEDIA_FETCH_TIMEOUT_MS,
          maxBytes: config.MEDIA_MAX_BYTES,
        }),
    },
  ],
  exports: [MessageStore, MessagesRepository],
})
export class MessagesModule {}
