import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import type { CommandClient, EventConsumer, EventStream } from '@wagw/messaging';
import { DataSource } from 'typeorm';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { JwtVerifier } from './auth/jwt-verifier.service.js';
import { RequestAuthenticator } from './auth/request-authenticator.service.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { ApiValidationPipe } from './common/validation.pipe.js';
import { ApiConfig } from './config/api-config.js';
import { EventsModule } from './events/events.module.js';
import { FleetModule } from './fleet/fleet.module.js';
import { GatewaysModule } from './gateways/gateways.module.js';
import {
  COMMAND_CLIENT,
  EVENT_CONSUMER,
  EVENT_STREAM,
  NATS_HEALTH,
  type NatsHealth,
} from './messaging/messaging.tokens.js';
import { MessagesModule } from './messages/messages.module.js';
import { MeteredCommandClient, MeteredEventConsumer } from './ops/metered-messaging.js';
import { MetricsService } from './ops/metrics.service.js';
import { OpsModule } from './ops/ops.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/** Process-wide singletons made before Nest starts: the validated config and the open database. */
@Global()
@Module({})
class CoreModule {
  static register(
    config: ApiConfig,
    dataSource: DataSource,
    messaging: ApiMessaging,
  ): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: ApiConfig, useValue: config },
        { provide: DataSource, useValue: dataSource },
        // Timed (command_duration_seconds) and lag-measured (event_consumer_lag_seconds).
        {
          provide: COMMAND_CLIENT,
          useFactory: (metrics: MetricsService) =>
            new MeteredCommandClient(messaging.commands, metrics),
          inject: [MetricsService],
        },
        {
          provide: EVENT_CONSUMER,
          useFactory: (metrics: MetricsService) =>
            new MeteredEventConsumer(messaging.consumer, metrics),
          inject: [MetricsService],
        },
        { provide: NATS_HEALTH, useValue: messaging.nats ?? null },
        { provide: EVENT_STREAM, useValue: messaging.stream },
      ],
      exports: [ApiConfig, DataSource, COMMAND_CLIENT, EVENT_CONSUMER, NATS_HEALTH, EVENT_STREAM],
    };
  }
}

/** The transport picked at start: NATS + JetStream, or the in-process broker of `npm start`. */
export interface ApiMessaging {
  commands: CommandClient;
  consumer: EventConsumer;
  /** The NATS transport's connection state, for `/readyz`; absent with the in-process one. */
  nats?: NatsHealth;
  /** The events stream by position: SSE, webhook intake, the API's own events. */
  stream: EventStream;
}

@Module({})
export class AppModule {
  static register(
    config: ApiConfig,
    dataSource: DataSource,
    messaging: ApiMessaging,
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.register(config, dataSource, messaging),
        FleetModule,
        OpsModule,
        ApiKeysModule,
        SessionsModule,
        MessagesModule,
        EventsModule,
        WebhooksModule,
        GatewaysModule,
      ],
      providers: [
        JwtVerifier,
        RequestAuthenticator,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_PIPE, useClass: ApiValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
