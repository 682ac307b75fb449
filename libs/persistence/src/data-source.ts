import { DataSource } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { GatewayEntity } from './entities/gateway.entity.js';
import { SessionEntity } from './entities/session.entity.js';
import { WaAuthCredsEntity, WaAuthKeyEntity } from './entities/wa-auth.entity.js';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import { WebhookIntakeEntity } from './entities/webhook-intake.entity.js';
import { WebhookEntity } from './entities/webhook.entity.js';
import {
  ApiSecretEntity,
  ChatEntity,
  MessageEntity,
  MessageIdempotencyEntity,
  MessageSendSlotEntity,
} from './entities/message.entity.js';
import { InitialSchema1763780000000 } from './migrations/1763780000000-initial-schema.js';
import { GatewayFleet1763790000000 } from './migrations/1763790000000-gateway-fleet.js';
import { SessionClaimedBy1763800000000 } from './migrations/1763800000000-session-claimed-by.js';
import { Webhooks1763810000000 } from './migrations/1763810000000-webhooks.js';
import { Messages1763820000000 } from './migrations/1763820000000-messages.js';
import { MessageRetentionByHour1763830000000 } from './migrations/1763830000000-message-retention-by-hour.js';
import { SendSlotFunction1763840000000 } from './migrations/1763840000000-send-slot-function.js';

export const ENTITIES = [
  SessionEntity,
  ApiKeyEntity,
  GatewayEntity,
  WaAuthCredsEntity,
  WaAuthKeyEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  WebhookIntakeEntity,
  MessageEntity,
  ChatEntity,
  MessageSendSlotEntity,
  MessageIdempotencyEntity,
  ApiSecretEntity,
];
export const MIGRATIONS = [
  InitialSchema1763780000000,
  GatewayFleet1763790000000,
  SessionClaimedBy1763800000000,
  Webhooks1763810000000,
  Messages1763820000000,
  MessageRetentionByHour1763830000000,
  SendSlotFunction1763840000000,
];

export interface DataSourceOptions {
  url: string;
  /** Connections in this process' pool: the bound on what one process holds on Postgres. */
  poolSize: number;
  applicationName: string;
  /**
   * Longest a statement may run, and a transaction sit idle, on these connections before the
   * server ends it: a stuck query or a leaked transaction cannot hold a connection or its locks
   * forever. 0 turns both off (migrations). Default 30 s.
   */
  statementTimeoutMs?: number;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** Migrations only: `synchronize` is never on, and a medium test checks entities against them. */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: options.applicationName,
    extra: {
      max: options.poolSize,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 5_000,
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout:
        options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    },
  });
}
