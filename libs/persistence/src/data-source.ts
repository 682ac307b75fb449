import { DataSource } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { SessionEntity } from './entities/session.entity.js';
import { InitialSchema1763780000000 } from './migrations/1763780000000-initial-schema.js';

export const ENTITIES = [SessionEntity, ApiKeyEntity];
export const MIGRATIONS = [InitialSchema1763780000000];

export interface DataSourceOptions {
  url: string;
  /** Connections in this process' pool: the bound on what one process holds on Postgres. */
  poolSize: number;
  applicationName: string;
}

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
    extra: { max: options.poolSize, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 },
  });
}
