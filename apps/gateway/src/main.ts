import 'reflect-metadata';
import { hostname } from 'node:os';
import { createLogger, guardConsole, onShutdownSignal, resolveNatsSettings } from '@wagw/domain';
import {
  authStateKeys,
  createGatewayRuntime,
  describeGatewayConfig,
  GATEWAY_SHUTDOWN_TIMEOUT_MS,
  loadGatewayConfig,
  OpsServer,
} from '@wagw/gateway';
import { createNatsMessaging } from '@wagw/messaging';
import { createDataSource } from '@wagw/persistence';

/** `npm run start:gateway`: one gateway worker of the distributed fleet (Postgres + NATS). */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger(config.LOG_LEVEL, 'gateway');
  // libsignal prints Signal session records (keys) to the console: never to stdout.
  guardConsole(logger);
  const keys = authStateKeys(config);
  const nats = resolveNatsSettings(config);
  if (!config.DATABASE_URL || !nats || !keys) {
    throw new Error(
      'a standalone gateway needs DATABASE_URL, NATS_URL and AUTH_STATE_KEYS (npm start embeds one instead)',
    );
  }
  logger.info({ config: describeGatewayConfig(config) }, 'starting');
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    poolSize: config.DB_POOL_SIZE,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    applicationName: `wagw-gateway-${config.GATEWAY_ID}`,
  }).initialize();
  // Claims and renewals never queue behind auth-state writes (see createGatewayRuntime).
  const leaseDataSource = await createDataSource({
    url: config.DATABASE_URL,
    poolSize: 2,
    statementTimeoutMs: config.LEASE_TTL_MS,
    applicationName: `wagw-gateway-${config.GATEWAY_ID}-leases`,
  }).initialize();
  const messaging = createNatsMessaging({
    ...nats,
    prefix: config.NATS_PREFIX,
    name: `gateway-${config.GATEWAY_ID}-${hostname()}`,
    role: 'gateway',
    publisher: { highWaterMark: config.EVENTS_HIGH_WATER_MARK },
    logger,
  });
  const runtime = createGatewayRuntime({
    config,
    dataSource,
    leaseDataSource,
    commands: messaging.server,
    publisher: messaging.publisher,
    authStateKeys: keys,
    logger,
  });
  const ops = new OpsServer(
    runtime.metrics.registry,
    [
      { name: 'database', check: async () => (await dataSource.query('SELECT 1')) !== undefined },
      { name: 'leases', check: () => Promise.resolve(runtime.worker.ready) },
      // NATS down or too slow: events pile up, and the worker takes no new session meanwhile.
      { name: 'events', check: () => Promise.resolve(!messaging.publisher.backlogged) },
      // A draining worker (preStop, SIGTERM, an admin's drain) takes no session: not ready.
      { name: 'draining', check: () => Promise.resolve(!runtime.worker.isDraining) },
    ],
    { drain: async () => ({ released: await runtime.worker.drain() }) },
  );
  await runtime.worker.start();
  const port = await ops.listen(config.GATEWAY_OPS_PORT);
  logger.info({ gatewayId: config.GATEWAY_ID, opsPort: port }, 'gateway ready');
  void runtime.warmUp();

  onShutdownSignal(
    logger,
    GATEWAY_SHUTDOWN_TIMEOUT_MS,
    'draining: handing sessions to peers',
    async () => {
      await runtime.stop();
      await messaging.close();
      await ops.close();
      await dataSource.destroy();
      await leaseDataSource.destroy();
    },
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
