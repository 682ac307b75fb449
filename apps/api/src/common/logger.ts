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
];

export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
