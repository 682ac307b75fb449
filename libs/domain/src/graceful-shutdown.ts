/** Pino-shaped (object first): the apps pass their logger straight in. */
export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0; exits 1 if it fails or takes
 * longer than `timeoutMs` (a stuck drain must not keep a pod from being replaced).
 */
export function onShutdownSignal(
  logger: ShutdownLogger,
  timeoutMs: number,
  what: string,
  stop: () => Promise<void>,
): void {
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, what);
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs).unref();
    try {
      await stop();
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    logger.info({}, 'stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
