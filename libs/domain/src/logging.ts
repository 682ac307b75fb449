import { pino, type Logger } from 'pino';

/** Never log credentials: bearer tokens, API key secrets, cookies, WhatsApp auth material. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'creds',
  '*.creds',
  'key',
  '*.key',
];

/**
 * Errors as pino serialises them, minus what a failed query carries of the data: TypeORM's
 * `QueryFailedError` (and the `pg` error inside) hold the statement's bound parameters — labels,
 * phone numbers, secret hashes — and pg's `detail` quotes the offending values.
 */
export function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (typeof serialized !== 'object' || serialized === null) return serialized;
  const { parameters: _parameters, detail: _detail, driverError, ...rest } = serialized;
  if (driverError && typeof driverError === 'object') {
    const { parameters: _p, detail: _d, ...driver } = driverError as Record<string, unknown>;
    rest.driverError = driver;
  }
  return rest;
}

/** The one logger factory of every process: JSON lines, credentials redacted, query data dropped. */
export function createLogger(level: string, name: string): Logger {
  // Asynchronous stdout: lines written while a write is in flight are coalesced into one
  // syscall (a synchronous write per access-log line cost ~15% of throughput). Flushed on exit.
  const destination = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => destination.flushSync());
  return pino(
    {
      name,
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
    },
    destination,
  );
}
