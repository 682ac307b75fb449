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
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min, MinLength } from 'class-validator';
import { parseCidrList } from '../webhooks/network-policy.js';

export { ConfigError };

/**
 * The API's whole configuration, read from the environment once at start and validated.
 * Nothing else in the app reads `process.env`. README "Configuration" documents every field
 * (the NATS_* ones are NatsSettings', shared with the gateway).
 */
export class ApiConfig extends NatsSettings {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  /** Loopback unless told otherwise (`0.0.0.0` in a container): nothing is exposed by default. */
  @IsString()
  HOST = '127.0.0.1';

  /** Unset → the embedded PGlite database in DATA_DIR. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  DATABASE_URL?: string = undefined;

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  /** Longest a statement may run (and a transaction sit idle) before Postgres ends it. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  DB_STATEMENT_TIMEOUT_MS = 30_000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  AUTH_JWKS_URL?: string = undefined;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  AUTH_ISSUER?: string = undefined;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  AUTH_AUDIENCE?: string = undefined;

  @IsString()
  @MinLength(1)
  AUTH_ORG_CLAIM = 'org_id';

  @IsString()
  @MinLength(1)
  AUTH_ROLE_CLAIM = 'role';

  @IsString()
  @MinLength(1)
  AUTH_SUBJECT_CLAIM = 'sub';

  /** Least time between two JWKS fetches triggered by an unknown `kid` (key rotation). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUTH_JWKS_COOLDOWN_MS = 30_000;

  /** Tolerated clock skew for `exp`/`nbf`, seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300)
  AUTH_CLOCK_TOLERANCE_S = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(100 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  /** A request (headers and body) must arrive within this; a stalled upload gets 408 and is closed. */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  REQUEST_TIMEOUT_MS = 30_000;

  /** At shutdown, in-flight requests get this long; then every remaining connection is closed. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  SHUTDOWN_GRACE_MS = 5_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** How often API-key `lastUsedAt` marks are written, batched (no write per request). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  API_KEY_USAGE_FLUSH_MS = 10_000;

  /** Backstop lifetime of a cached API key; revocation itself is pushed to every replica. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_KEY_CACHE_TTL_MS = 60_000;

  /** How often the revocation listener's connection must answer (else the key cache turns off). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  API_KEY_LISTENER_CHECK_MS = 15_000;

  /** How long a lifecycle command waits for a gateway before answering 503 unavailable. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  COMMAND_TIMEOUT_MS = 5_000;

  /** How long `GET /qr` waits for the first QR code of a session that was not pairing. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(120_000)
  QR_WAIT_MS = 10_000;

  /** A gateway not seen for this long is not listed as live. */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  GATEWAY_STALE_AFTER_MS = 30_000;

  /** `npm start`: where the in-process simulated WhatsApp network serves its control API. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  WA_SIM_PORT = 8090;

  /** Most sessions one organization may have (`429 rate_limited`, reason `session_quota`). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ORG_MAX_SESSIONS = 1_000;

  /** Most pairings (unpaired sessions meant to run) one organization may have at once. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ORG_MAX_PAIRING = 10;

  /** A comment line on every SSE stream this often, so proxies and clients see it alive. */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(300_000)
  SSE_HEARTBEAT_MS = 15_000;

  /** Bytes an SSE client may have unread before it is cut off (a slow client). */
  @Transform(toInt)
  @IsInt()
  @Min(16 * 1024)
  @Max(64 * 1024 * 1024)
  SSE_CLIENT_BUFFER_BYTES = 1024 * 1024;

  /** Recent events each replica keeps in memory to resume SSE clients without reading the stream. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(1_000_000)
  SSE_REPLAY_BUFFER_EVENTS = 10_000;

  /** Stored messages older than this many days are purged; unset keeps them forever. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(36_500)
  MESSAGE_RETENTION_DAYS?: number = undefined;

  /** Largest media a send may carry (base64 decoded, or fetched from its URL), in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1_024)
  @Max(100 * 1024 * 1024)
  MEDIA_MAX_BYTES = 16 * 1024 * 1024;

  /** MIME types a media send may have (comma-separated; a trailing `*` matches a prefix). */
  @IsString()
  MEDIA_ALLOWED_MIME_TYPES =
    'image/*,video/*,audio/*,text/plain,application/pdf,application/zip,application/msword,application/vnd.*';

  /** How long fetching a media URL may take, end to end. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  MEDIA_FETCH_TIMEOUT_MS = 15_000;

  /** CIDRs media URLs may point to although private/loopback/link-local (comma-separated). */
  @IsString()
  MEDIA_ALLOW_PRIVATE_NETWORKS = '';

  /** How long a send waits for the session's gateway before `503 unavailable`. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  SEND_TIMEOUT_MS = 10_000;

  /** How long an Idempotency-Key's first result is kept. */
  @Transform(toInt)
  @IsInt()
  @Min(60_000)
  IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

  /** CIDRs webhooks may reach although private/loopback/link-local (comma-separated). */
  @IsString()
  WEBHOOK_ALLOW_PRIVATE_NETWORKS = '';

  /** A delivery attempt (connect, send, response) must finish within this. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEBHOOK_TIMEOUT_MS = 10_000;

  /** Response bytes read from a receiver; the rest is discarded. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10 * 1024 * 1024)
  WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024;

  /** First retry delay; doubled per attempt, capped, with jitter (equal jitter). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RETRY_BASE_MS = 60_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RETRY_MAX_DELAY_MS = 4 * 60 * 60 * 1000;

  /** Attempts before a delivery becomes a dead letter (defaults: about 24 h of retries). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  WEBHOOK_MAX_ATTEMPTS = 16;

  /** A webhook whose every attempt failed for this long is disabled (with an event). */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  WEBHOOK_DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;

  /** How long the previous secret still signs after `:rotate-secret` (unless the call says). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 60 * 60 * 1000)
  WEBHOOK_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

  /** Delivery attempts in flight at once on this replica. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000)
  WEBHOOK_CONCURRENCY = 32;

  /** How often a replica looks for due retries (new events wake it at once). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  WEBHOOK_POLL_MS = 1_000;

  /** Delivered deliveries and dead letters are kept this long. */
  @Transform(toInt)
  @IsInt()
  @Min(60_000)
  WEBHOOK_DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

  /** Webhooks one organization may have (429 `webhook_quota` beyond). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000)
  WEBHOOK_MAX_PER_ORG = 20;

  get jwtEnabled(): boolean {
    return this.AUTH_JWKS_URL !== undefined;
  }
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const config = loadEnvConfig(ApiConfig, env, 'configuration');
  if (config.jwtEnabled && (!config.AUTH_ISSUER || !config.AUTH_AUDIENCE)) {
    throw new ConfigError('AUTH_ISSUER and AUTH_AUDIENCE are required when AUTH_JWKS_URL is set');
  }
  resolveNatsSettings(config);
  try {
    parseCidrList(config.MEDIA_ALLOW_PRIVATE_NETWORKS);
  } catch (error) {
    throw new ConfigError(`MEDIA_ALLOW_PRIVATE_NETWORKS: ${(error as Error).message}`);
  }
  try {
    parseCidrList(config.WEBHOOK_ALLOW_PRIVATE_NETWORKS);
  } catch (error) {
    throw new ConfigError(`WEBHOOK_ALLOW_PRIVATE_NETWORKS: ${(error as Error).message}`);
  }
  return config;
}

/** The configuration as it may be logged: credentials inside URLs masked. */
export function describeConfig(config: ApiConfig): Record<string, unknown> {
  return {
    ...Object.fromEntries(
      Object.keys(new ApiConfig()).map((key) => [
        key,
        (config as unknown as Record<string, unknown>)[key],
      ]),
    ),
    DATABASE_URL: maskUrl(config.DATABASE_URL),
    NATS_URL: maskNatsUrl(config.NATS_URL),
  };
}
