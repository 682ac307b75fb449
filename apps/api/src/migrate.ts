import 'reflect-metadata';
import { createDataSource } from '@wagw/persistence';
import { loadApiConfig } from './config/api-config.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
async function migrate(): Promise<void> {
  const config = loadApiConfig();
  if (!config.DATABASE_URL) {
    throw new Error('DATABASE_URL is not set (the embedded database migrates itself on start)');
  }
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    poolSize: 1,
    applicationName: 'wagw-migrate',
    // A migration on a large table may rightly take longer than any API statement.
    statementTimeoutMs: 0,
  }).initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    process.stdout.write(`${JSON.stringify({ applied: applied.map((m) => m.name) })}\n`);
  } finally {
    await dataSource.destroy();
  }
}

migrate().catch((error: unknown) => {
  process.stderr.write(
    `migrate failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
