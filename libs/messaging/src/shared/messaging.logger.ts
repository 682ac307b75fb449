import { Logger } from '@nestjs/common';

/** Pino-shaped (object first), so the apps can pass their pino logger straight in. */
export interface MessagingLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentMessagingLogger: MessagingLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Default: Nest's static Logger, which the API routes to pino once the app overrides it, so a
 * caller that forgets to pass a logger still sees transport trouble (it is never swallowed).
 */
export function nestMessagingLogger(context: string): MessagingLogger {
  const logger = new Logger(context);
  return {
    info: (obj, msg) => logger.log(msg ?? '', obj),
    warn: (obj, msg) => logger.warn(msg ?? '', obj),
    error: (obj, msg) => logger.error(msg ?? '', obj),
  };
}

/** Loggable form of anything thrown (Errors don't survive JSON logging as-is). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
