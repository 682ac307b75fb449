import type { Logger } from 'pino';

/**
 * Libraries that write to the console directly (libsignal, under Baileys, prints whole Signal
 * session records — private keys included — on `console.info("Closing session:", session)`)
 * go through the process's logger instead, and only their text arguments are kept: an object
 * handed to `console.*` never reaches a log line.
 */
export function guardConsole(logger: Logger): void {
  const log = logger.child({ source: 'console' });
  const text = (args: unknown[]): string =>
    args
      .filter((a): a is string | number | boolean =>
        ['string', 'number', 'boolean'].includes(typeof a),
      )
      .map(String)
      .join(' ');
  console.log = (...args: unknown[]) => log.debug(text(args));
  console.debug = (...args: unknown[]) => log.debug(text(args));
  console.info = (...args: unknown[]) => log.info(text(args));
  console.warn = (...args: unknown[]) => log.warn(text(args));
  console.error = (...args: unknown[]) => log.error(text(args));
}
