export interface WaSimConfig {
  port: number;
  host: string;
  qrTtlMs: number | undefined;
  pairingCodeTtlMs: number | undefined;
  logLevel: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The only place the wa-sim process reads its environment; throws on bad values. */
export function loadWaSimConfig(env: Record<string, string | undefined>): WaSimConfig {
  const logLevel = env['LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const host = env['WA_SIM_HOST'] ?? '127.0.0.1';
  if (host.trim() === '') throw new Error('WA_SIM_HOST must not be empty');
  return {
    port: integer(env, 'WA_SIM_PORT', 0, 65_535) ?? 8090,
    host,
    qrTtlMs: integer(env, 'WA_SIM_QR_TTL_MS', 1, 3_600_000),
    pairingCodeTtlMs: integer(env, 'WA_SIM_PAIRING_CODE_TTL_MS', 1, 3_600_000),
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
