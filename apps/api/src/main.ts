import 'reflect-metadata';
import { openDatabase } from '@wagw/persistence';
import { createLogger } from './common/logger.js';
import { describeConfig, loadApiConfig } from './config/api-config.js';
import { createApp } from './create-app.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  const config = loadApiConfig();
  const logger = createLogger(config.LOG_LEVEL, 'api');
  logger.info({ config: describeConfig(config) }, 'starting');
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DB_POOL_SIZE,
    applicationName: 'wagw-api',
    role: 'product',
  });
  if (db.embedded)
    logger.info({ dataDir: config.DATA_DIR }, 'embedded database ready (migrations applied)');
  const app = await createApp(config, db.dataSource, logger);
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.info({ url: await app.getUrl() }, 'API listening');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    await app.close();
    await db.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
