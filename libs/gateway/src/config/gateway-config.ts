import { hostname } from 'node:os';
import {
  ConfigError,
  emptyToUndefined,
  loadEnvConfig,
  maskNatsUrl,
  maskUrl,
  NatsSettings,
  resolveNatsSettings,
  toInt,
} from '@wagw/domain';
import { parseAuthStateKey } from '../auth-state/auth-state.cipher.js';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

/**
 * Longest a gateway's SIGTERM drain may take before the process exits anyway: every session
 * handed over, events flushed (at most 5 s), NATS closed. An orchestrator's grace period
 * (Kubernetes terminationGracePeriodSeconds) must be longer.
 */
export const GATEWAY_SHUTDOWN_TIMEOUT_MS = 20_000;

/** A host name made safe for NATS subjects and lease owner ids. */
export const defaultGatewayId = (): string =>
  hostname()
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 64) || 'gateway';

/**
 * Configuration of a gateway worker, validated once at start. The standalone gateway
 * (`apps/gateway`) and the embedded one inside `npm start` read it the same way.
 */
export class GatewayConfig extends NatsSettings {
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'GATEWAY_ID may hold letters, digits, - and _ (1-64)',
  })
  GATEWAY_ID = defaultGatewayId();

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  GATEWAY_CAPACITY = 1_000;

  @Transform(toInt)
  @IsInt()
  @Min(600)
  @Max(600_000)
  LEASE_TTL_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  GATEWAY_OPS_PORT = 9090;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  DATABASE_URL?: string = undefined;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 5;

  /** Longest a statement may run (and a transaction sit idle) before Postgres ends it. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  DB_STATEMENT_TIMEOUT_MS = 30_000;

  /**
   * Unpublished events (NATS down or slow) at which `/readyz` fails and the worker claims no
   * new session, until the backlog is under half of it.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  EVENTS_HIGH_WATER_MARK = 10_000;

  /**
   * `whatsapp`: the real WhatsApp network, Baileys' trust as shipped. `sandbox`: the simulated
   * network (wa-sim) at WA_SIM_URL, trusting the root key it publishes.
   */
  @IsIn(['whatsapp', 'sandbox'])
  WA_NETWORK: 'whatsapp' | 'sandbox' = 'whatsapp';

  /** How long each QR ref is shown; unset → WhatsApp's own (60 s for the first, 20 s after). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(600_000)
  WA_QR_TIMEOUT_MS?: number = undefined;

  /**
   * How often the connection pings WhatsApp; a network silent for this + 5 s is lost (408) and
   * reconnected with backoff. Lower finds a dead network sooner, at a ping per session each time.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  WA_KEEPALIVE_MS = 30_000;

  /**
   * Most connections of this gateway logging in at once (handshake to open, or to the QR);
   * the rest queue. Bounds the CPU and database work of a takeover or a wave of pairings.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  WA_CONNECT_CONCURRENCY = 32;

  /**
   * Most sessions of this gateway pairing at once: showing a QR, or the first login after a
   * scan (812 pre-keys generated and stored: ≈ 0.3 s of CPU each). The rest queue.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000)
  WA_PAIRING_CONCURRENCY = 2;

  /**
   * Event-loop delay (ms) over which the gateway starts fewer connects at once (halved each
   * half second while over; one more each half second under half of it), so that a takeover
   * of hundreds of sessions never delays the lease renewal into a self-fence. 0 = off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  WA_CONNECT_LAG_LIMIT_MS = 500;

  /** The sandbox's base URL (only its origin counts); `npm start` embeds one when unset. */
  @Matches(/^(https?|wss?):\/\/[^/\s]+/, { message: 'WA_SIM_URL must be an http(s) or ws(s) URL' })
  WA_SIM_URL = 'http://127.0.0.1:8090';

  /** 32 bytes, base64: encrypts WhatsApp auth state at rest (one key; see AUTH_STATE_KEYS). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  AUTH_STATE_KEY?: string = undefined;

  /**
   * Keys for WhatsApp auth state at rest, base64, comma-separated: the first encrypts, all
   * decrypt (the previous ones while `npm run cli -- auth-state re-encrypt` rotates the rows).
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  AUTH_STATE_KEYS?: string = undefined;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

export { ConfigError as GatewayConfigError };

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config = loadEnvConfig(GatewayConfig, env, 'gateway configuration');
  if (config.AUTH_STATE_KEY !== undefined && config.AUTH_STATE_KEYS !== undefined)
    throw new ConfigError('set AUTH_STATE_KEYS or AUTH_STATE_KEY, not both');
  try {
    authStateKeys(config);
  } catch (error) {
    const name = config.AUTH_STATE_KEYS !== undefined ? 'AUTH_STATE_KEYS' : 'AUTH_STATE_KEY';
    throw new ConfigError(`${name}: ${(error as Error).message} (32 bytes, base64-encoded)`);
  }
  resolveNatsSettings(config);
  return config;
}

/** The configured auth-state keys, current first; null when none is configured. */
export function authStateKeys(config: GatewayConfig): Buffer[] | null {
  const list = config.AUTH_STATE_KEYS ?? config.AUTH_STATE_KEY;
  return list === undefined ? null : list.split(',').map(parseAuthStateKey);
}

/** What may be logged: no key material, no passwords inside URLs. */
export function describeGatewayConfig(config: GatewayConfig): Record<string, unknown> {
  return {
    ...config,
    DATABASE_URL: maskUrl(config.DATABASE_URL),
    NATS_URL: maskNatsUrl(config.NATS_URL),
    AUTH_STATE_KEY: config.AUTH_STATE_KEY ? '***' : undefined,
    AUTH_STATE_KEYS: config.AUTH_STATE_KEYS
      ? config.AUTH_STATE_KEYS.split(',').map(() => '***')
      : undefined,
  };
}
