import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { JwtVerifier } from './auth/jwt-verifier.service.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { ApiValidationPipe } from './common/validation.pipe.js';
import { ApiConfig } from './config/api-config.js';
import { OpsModule } from './ops/ops.module.js';
import { SessionsModule } from './sessions/sessions.module.js';

/** Process-wide singletons made before Nest starts: the validated config and the open database. */
@Global()
@Module({})
class CoreModule {
  static register(config: ApiConfig, dataSource: DataSource): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: ApiConfig, useValue: config },
        { provide: DataSource, useValue: dataSource },
      ],
      exports: [ApiConfig, DataSource],
    };
  }
}

@Module({})
export class AppModule {
  static register(config: ApiConfig, dataSource: DataSource): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.register(config, dataSource), OpsModule, ApiKeysModule, SessionsModule],
      providers: [
        JwtVerifier,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_PIPE, useClass: ApiValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
