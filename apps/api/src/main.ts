import 'reflect-metadata';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, onShutdownSignal, resolveNatsSettings } from '@wagw/domain';
import { type GatewayConfig, loadGatewayConfig } from '@wagw/gateway';
import {
  createInProcessMessaging,
  createNatsMessaging,
  InProcessBroker,
  type Messaging,
} from '@wagw/messaging';
import { openDatabase } from '@wagw/persistence';
import type { Logger } from 'pino';
import { type ApiConfig, describeConfig, loadApiConfig } from './config/api-config.js';
import { createApp } from './create-app.js';
import { type EmbeddedFleet, startEmbeddedFleet } from './embedded/embedded-fleet.js';

const SHUTDOWN_TIMEOUT_MS = 20_000;

/**
 * NATS + JetStream when NATS_URL is set (with its credentials and TLS, as the `api` role; with
 * `--embedded-gateway` the same identity also serves the gateway's subjects); else the
 * in-process broker (same contracts).
 */
function createMessaging(
  config: ApiConfig,
  gateway: GatewayConfig | null,
  logger: Logger,
): Messaging {
  const nats = resolveNatsSettings(config);
  return nats
    ? createNatsMessaging({
        ...nats,
        prefix: config.NATS_PREFIX,
        name: `api-${hostname()}`,
        role: 'api',
        ...(gateway ? { publisher: { highWaterMark: gateway.EVENTS_HIGH_WATER_MARK } } : {}),
        logger,
      })
    : createInProcessMessaging(new InProcessBroker(), { logger });
}

/**
 * The API. `npm start` passes `--embedded-gateway`: one gateway worker (and, with the simulated
 * driver, the simulated WhatsApp network) runs in this process too. `npm run start:api` does not.
 */
async function main(): Promise<void> {
  const embedGateway = process.argv.includes('--embedded-gateway');
  const config = loadApiConfig();
  const gatewayConfig = embedGateway
    ? loadGatewayConfig({ GATEWAY_ID: 'embedded', ...process.env })
    : null;
  const logger = createLogger(config.LOG_LEVEL, 'api');
  logger.info({ config: describeConfig(config), embeddedGateway: embedGateway }, 'starting');
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DB_POOL_SIZE,
    applicationName: 'wagw-api',
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    role: 'product',
  });
  if (db.embedded)
    logger.info({ dataDir: config.DATA_DIR }, 'embedded database ready (migrations applied)');
  const messaging = createMessaging(config, gatewayConfig, logger);
  const app = await createApp(config, db.dataSource, logger, {
    commands: messaging.commands,
    consumer: messaging.consumer,
    ...(config.NATS_URL ? { nats: messaging } : {}),
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.info({ url: await app.getUrl() }, 'API listening');
  let fleet: EmbeddedFleet | null = null;
  if (gatewayConfig) {
    fleet = await startEmbeddedFleet({
      gateway: gatewayConfig,
      simulatorPort: process.env.WA_SIM_URL ? null : config.WA_SIM_PORT,
      dataDir: config.DATA_DIR,
      dataSource: db.dataSource,
      messaging,
      logger: logger.child({ component: 'gateway' }),
    });
  }

  onShutdownSignal(
    logger,
    SHUTDOWN_TIMEOUT_MS,
    'shutting down: handing sessions over, draining requests',
    async () => {
      await fleet?.stop();
      await closeApp(app, config.SHUTDOWN_GRACE_MS);
      await messaging.close();
      await db.close();
    },
  );
}

/**
 * Stops taking requests and lets those in flight finish for `graceMs`; then cuts every
 * connection still open (a stalled upload, a hung client), so the flushes that follow still run
 * within the shutdown deadline.
 */
async function closeApp(app: NestFastifyApplication, graceMs: number): Promise<void> {
  const server: Server = app.getHttpServer();
  const cut = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
