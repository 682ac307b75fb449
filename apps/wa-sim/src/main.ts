import { startWaSim } from '@wagw/wa-sim';
import { pino } from 'pino';
import { loadWaSimConfig } from './wa-sim.config.js';

const logger = pino({ name: 'wa-sim' });

async function main(): Promise<void> {
  const config = loadWaSimConfig(process.env);
  logger.level = config.logLevel;
  const sim = await startWaSim({
    port: config.port,
    host: config.host,
    qrTtlMs: config.qrTtlMs,
    qrFirstTtlMs: config.qrFirstTtlMs,
    qrMaxRefs: config.qrMaxRefs,
    dataDir: config.dataDir,
    rootPrivateKey: config.rootPrivateKey,
    mediaPort: config.mediaPort,
    ...(config.mediaPublicHost ? { mediaPublicHost: config.mediaPublicHost } : {}),
    logger,
  });
  logger.info(
    {
      webUrl: sim.webUrl,
      controlUrl: sim.controlUrl,
      rootPublicKey: sim.rootPublicKey,
      mediaHost: sim.media.hostname,
    },
    `wa-sim ready: WhatsApp Web at ${sim.webUrl}, control API ${sim.controlUrl}/sim/v1`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'wa-sim shutting down');
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'wa-sim shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'wa-sim failed to start');
  process.exit(1);
});
