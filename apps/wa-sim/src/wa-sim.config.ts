export interface WaSimConfig {
  port: number;
  host: string;
  /** The first QR ref's lifetime, then each later one's. */
  qrFirstTtlMs: number | undefined;
  qrTtlMs: number | undefined;
  /** QR refs per pairing connection. */
  qrMaxRefs: number | undefined;
  /** Where the root key is generated and kept. */
  dataDir: string;
  /** The root private key, base64 (32 bytes); wins over the one in dataDir. */
  rootPrivateKey: string | undefined;
  /** The media host's port (0: a free one) and the name clients reach it by (default: host). */
  mediaPort: number;
  mediaPublicHost: string | undefined;
  logLevel: string;
}

/** Every variable `loadWaSimConfig` reads (the deployment tests refuse any other). */
export const WA_SIM_ENV = [
  'LOG_LEVEL',
  'WA_SIM_HOST',
  'WA_SIM_PORT',
  'WA_SIM_DATA_DIR',
  'WA_SIM_QR_FIRST_TTL_MS',
  'WA_SIM_QR_TTL_MS',
  'WA_SIM_QR_REFS',
  'WA_SIM_ROOT_KEY',
  'WA_SIM_MEDIA_PORT',
  'WA_SIM_MEDIA_HOST',
] as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The only place the wa-sim process reads its environment; throws on bad values. */
export function loadWaSimConfig(env: Record<string, string | undefined>): WaSimConfig {
  const logLevel = env['LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const host = env['WA_SIM_HOST'] ?? '127.0.0.1';
  if (host.trim() === '') throw new Error('WA_SIM_HOST must not be empty');
  const dataDir = env['WA_SIM_DATA_DIR'] || './data/wa-sim';
  return {
    port: integer(env, 'WA_SIM_PORT', 0, 65_535) ?? 8090,
    host,
    qrFirstTtlMs: integer(env, 'WA_SIM_QR_FIRST_TTL_MS', 1, 3_600_000),
    qrTtlMs: integer(env, 'WA_SIM_QR_TTL_MS', 1, 3_600_000),
    qrMaxRefs: integer(env, 'WA_SIM_QR_REFS', 1, 100),
    dataDir,
    rootPrivateKey: rootKey(env),
    mediaPort: integer(env, 'WA_SIM_MEDIA_PORT', 0, 65_535) ?? 0,
    mediaPublicHost: env['WA_SIM_MEDIA_HOST'] || undefined,
    logLevel,
  };
}

function integer(
  env: Record<string, string | undefined>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function rootKey(env: Record<string, string | undefined>): string | undefined {
  const raw = env['WA_SIM_ROOT_KEY'];
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9+/]{43}=$/.test(raw) || Buffer.from(raw, 'base64').length !== 32) {
    // Never echo the value: it is a private key.
    throw new Error('WA_SIM_ROOT_KEY must be a 32-byte Curve25519 private key in base64');
  }
  return raw;
}
