import { join } from 'node:path';
import {
  authStateKeys,
  createGatewayRuntime,
  type GatewayConfig,
  loadOrCreateEmbeddedAuthStateKey,
} from '@wagw/gateway';
import type { Messaging } from '@wagw/messaging';
import { startWaSim, type WaSimServer } from '@wagw/wa-sim';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';

export interface EmbeddedFleetOptions {
  gateway: GatewayConfig;
  /** Run the simulated WhatsApp network in this process on this port (sandbox only), or not. */
  simulatorPort: number | null;
  dataDir: string;
  dataSource: DataSource;
  messaging: Messaging;
  logger: Logger;
}

export interface EmbeddedFleet {
  simulatorUrl: string | null;
  stop(): Promise<void>;
}

/**
 * `npm start`: one gateway worker in the API process, on the same database and transport; with
 * `npm run start:sandbox` (WA_NETWORK=sandbox) also the simulated WhatsApp network beside it,
 * whose root key the worker trusts. The same worker code as the standalone gateway: only the
 * wiring differs.
 */
export async function startEmbeddedFleet(options: EmbeddedFleetOptions): Promise<EmbeddedFleet> {
  const { gateway, logger } = options;
  let sim: WaSimServer | null = null;
  if (gateway.WA_NETWORK === 'sandbox' && options.simulatorPort !== null) {
    // Its root key lives beside the database: a restart keeps the links the sandbox issued.
    sim = await startWaSim({
      port: options.simulatorPort,
      host: '127.0.0.1',
      dataDir: join(options.dataDir, 'wa-sim'),
    });
    gateway.WA_SIM_URL = sim.controlUrl;
    logger.info({ control: sim.controlUrl }, 'simulated WhatsApp network listening');
  }
  const keys = authStateKeys(gateway) ?? [await loadOrCreateEmbeddedAuthStateKey(options.dataDir)];
  const runtime = createGatewayRuntime({
    config: gateway,
    dataSource: options.dataSource,
    commands: options.messaging.server,
    publisher: options.messaging.publisher,
    authStateKeys: keys,
    logger,
    defaultMetrics: false,
  });
  await runtime.worker.start();
  // Which WhatsApp this process talks to: the first thing to check when a session will not pair.
  logger.info(
    {
      driver: runtime.connections.driver,
      network: gateway.WA_NETWORK,
      ...(gateway.WA_NETWORK === 'sandbox' ? { sandbox: gateway.WA_SIM_URL } : {}),
    },
    gateway.WA_NETWORK === 'sandbox'
      ? 'WhatsApp: the sandbox (simulated network)'
      : 'WhatsApp: the real network',
  );
  void runtime.warmUp();
  return {
    simulatorUrl: sim?.controlUrl ?? null,
    async stop() {
      await runtime.stop();
      await sim?.close();
    },
  };
}
