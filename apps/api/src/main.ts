import 'reflect-metadata';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, guardConsole, onShutdownSignal, resolveNatsSettings } from '@wagw/domain';
import { type GatewayConfig, loadGatewayConfig } from '@wagw/gateway';
import {
  createInProcessMessaging,
  createNatsEventStream,
  createNatsMessaging,
  FileEventLogStore,
  InProcessBroker,
  InProcessEventStream,
  type EventStream,
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
 * in-process broker (same contracts). Either way also the events stream read by position (SSE,
 * webhook intake) and its closing.
 */
function createMessaging(
  config: ApiConfig,
  gateway: GatewayConfig | null,
  logger: Logger,
): { messaging: Messaging; stream: EventStream; close(): Promise<void> } {
  const nats = resolveNatsSettings(config);
  if (nats) {
    const common = { ...nats, prefix: config.NATS_PREFIX, role: 'api' as const, logger };
    const messaging = createNatsMessaging({
      ...common,
      name: `api-${hostname()}`,
      ...(gateway ? { publisher: { highWaterMark: gateway.EVENTS_HIGH_WATER_MARK } } : {}),
    });
    const stream = createNatsEventStream({ ...common, name: `api-${hostname()}` });
    return {
      messaging,
      stream,
      close: async () => {
        await stream.close();
        await messaging.close();
      },
    };
  }
  // The embedded log lives in DATA_DIR, so event ids (positions) survive a restart as on NATS.
  const broker = new InProcessBroker({
    store: FileEventLogStore.open(join(config.DATA_DIR, 'events')),
  });
  const messaging = createInProcessMessaging(broker, { logger });
  const stream = new InProcessEventStream(broker);
  return {
    messaging,
    stream,
    close: async () => {
      await stream.close();
      await messaging.close();
      broker.close();
    },
  };
}

/**
 * `npm run start:sandbox` (WA_NETWORK=sandbox) with no WA_SIM_URL of its own: this process runs
 * the simulated WhatsApp network. `npm start` (WA_NETWORK=whatsapp) never does.
 */
function embedsSandbox(gateway: GatewayConfig): boolean {
  return gateway.WA_NETWORK === 'sandbox' && !process.env.WA_SIM_URL;
}

/**
 * The API. `npm start` passes `--embedded-gateway`: one gateway worker runs in this process too,
 * on the real WhatsApp network; `npm run start:sandbox` adds the simulated network (wa-sim) and
 * points the worker at it. `npm run start:api` runs neither.
 */
async function main(): Promise<void> {
  const embedGateway = process.argv.includes('--embedded-gateway');
  const config = loadApiConfig();
  // The embedded worker drives WhatsApp with Baileys: the real network (WA_NETWORK=whatsapp, the
  // default) or the sandbox this process embeds (`npm run start:sandbox`).
  const gatewayConfig = embedGateway
    ? loadGatewayConfig({ GATEWAY_ID: 'embedded', ...process.env })
    : null;
  const logger = createLogger(config.LOG_LEVEL, 'api');
  // The embedded gateway's libsignal prints Signal session records (keys): never to stdout.
  guardConsole(logger);
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
  const transport = createMessaging(config, gatewayConfig, logger);
  const messaging = transport.messaging;
  let fleet: EmbeddedFleet | null = null;
  // The sandbox (`/sandbox/v1/*`, the console's "play the phone" panel) exists only when the
  // simulated network runs in this process; on the real network those routes answer 404.
  const sandbox =
    gatewayConfig && embedsSandbox(gatewayConfig)
      ? { controlUrl: () => fleet?.simulatorUrl ?? null }
      : undefined;
  const app = await createApp(
    config,
    db.dataSource,
    logger,
    {
      commands: messaging.commands,
      consumer: messaging.consumer,
      stream: transport.stream,
      ...(config.NATS_URL ? { nats: messaging } : {}),
    },
    { sandbox },
  );
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.info({ url: await app.getUrl() }, 'API listening');
  if (gatewayConfig) {
    fleet = await startEmbeddedFleet({
      gateway: gatewayConfig,
      simulatorPort: embedsSandbox(gatewayConfig) ? config.WA_SIM_PORT : null,
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
      await transport.close();
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
