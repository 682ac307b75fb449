import { Module } from '@nestjs/common';
import { ApiConfig } from '../config/api-config.js';
import { ApiKeyAuthenticator } from './api-key-authenticator.service.js';
import { ApiKeyCache } from './api-key-cache.js';
import { ApiKeyRevocationListener } from './api-key-revocation.listener.js';
import { ApiKeyUsageTracker } from './api-key-usage.tracker.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';

@Module({
  controllers: [ApiKeysController],
  providers: [
    ApiKeysRepository,
    ApiKeysService,
    ApiKeyAuthenticator,
    ApiKeyUsageTracker,
    ApiKeyRevocationListener,
    {
      provide: ApiKeyCache,
      inject: [ApiConfig],
      useFactory: (config: ApiConfig) => new ApiKeyCache(config.API_KEY_CACHE_TTL_MS),
    },
  ],
  exports: [ApiKeyAuthenticator, ApiKeysService],
})
export class ApiKeysModule {}
