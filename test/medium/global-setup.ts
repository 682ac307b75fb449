import 'reflect-metadata';
import { createDataSource } from '@wagw/persistence';
import { createTestDatabase } from '../support/test-database.ts';

/** One database per run, migrated once; tests isolate by organization ids, not by truncation. */
export default async function globalSetup(): Promise<void> {
  const db = await createTestDatabase('wagw_medium');
  const dataSource = await createDataSource({
    url: db.url,
    poolSize: 1,
    applicationName: 'wagw-test-setup',
  }).initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy();
  process.env.WAGW_MEDIUM_DATABASE_URL = db.url;
  process.env.WAGW_MEDIUM_DATABASE_NAME = db.name;
}
