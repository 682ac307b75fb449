import { readFileSync } from 'node:fs';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { ConfigError, emptyToUndefined } from './env-config.js';

/**
 * The NATS settings every process that connects reads the same way (the API, `npm start` with
 * NATS_URL, the gateway): where, as whom, over what. Config classes extend it, so each still
 * validates its whole environment in one place. README "Configuration" documents each field.
 */
export class NatsSettings {
  /**
   * NATS with JetStream: `nats://` or `tls://` URLs, comma-separated for a cluster. May carry
   * credentials: `nats://user:password@host:4222` or a token, `nats://token@host:4222`.
   * Unset → the API and `npm start` use the in-process transport.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  NATS_URL?: string = undefined;

  /** Prefix of every subject and stream name: lets several deployments share one NATS. */
  @Matches(/^[A-Za-z0-9_-]+$/)
  NATS_PREFIX = 'wagw';

  /** A `.creds` file (user JWT + NKey seed) for NATS's decentralised (operator) auth. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  NATS_CREDS_FILE?: string = undefined;

  /** A file holding an NKey user seed (`SU…`), for servers that list users by NKey. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  NATS_NKEY_SEED_FILE?: string = undefined;

  /** PEM file of the CA that signed the server's certificate (implies TLS). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  NATS_TLS_CA?: string = undefined;

  /** PEM client certificate, with NATS_TLS_KEY, for servers that verify clients (mTLS). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  NATS_TLS_CERT?: string = undefined;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  NATS_TLS_KEY?: string = undefined;
}

/**
 * Where and as whom to connect, as `@wagw/messaging`'s NatsEndpoint takes it. Credentials
 * found in the URL are moved out of it, so a server URL can be logged or reported as is.
 */
export interface NatsConnectionSettings {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  credsFile?: string;
  nkeySeedFile?: string;
  /** Present when TLS is required (a `tls://` URL or any NATS_TLS_* setting). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

const SCHEMES = new Set(['nats:', 'tls:']);
const CREDS_JWT = /-----BEGIN NATS USER JWT-----\s*\S+\s*------END NATS USER JWT------/;
const CREDS_SEED =
  /-----BEGIN USER NKEY SEED-----\s*SU[A-Z2-7]{56}\s*------END USER NKEY SEED------/;
const USER_SEED = /^SU[A-Z2-7]{56}$/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * Checks the NATS settings as a whole and resolves them (throws ConfigError naming the
 * variable): parseable `nats://`/`tls://` URLs with the same credentials on each, at most one
 * way to authenticate, readable files of the right kind, a client certificate with its key.
 * Returns null when NATS_URL is unset (the in-process transport).
 */
export function resolveNatsSettings(settings: NatsSettings): NatsConnectionSettings | null {
  const files = {
    NATS_CREDS_FILE: settings.NATS_CREDS_FILE,
    NATS_NKEY_SEED_FILE: settings.NATS_NKEY_SEED_FILE,
    NATS_TLS_CA: settings.NATS_TLS_CA,
    NATS_TLS_CERT: settings.NATS_TLS_CERT,
    NATS_TLS_KEY: settings.NATS_TLS_KEY,
  };
  if (settings.NATS_URL === undefined) {
    const stray = Object.entries(files).find(([, value]) => value !== undefined);
    if (stray) throw new ConfigError(`${stray[0]} is set but NATS_URL is not`);
    return null;
  }

  const urls = settings.NATS_URL.split(',').map((part) => part.trim());
  const credentials = new Set<string>();
  const servers: string[] = [];
  let urlAuth: Pick<NatsConnectionSettings, 'user' | 'pass' | 'token'> = {};
  let tlsScheme = false;
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError('NATS_URL must be nats:// or tls:// URLs, comma-separated');
    }
    if (!SCHEMES.has(url.protocol) || url.hostname === '' || url.pathname.length > 1)
      throw new ConfigError('NATS_URL must be nats:// or tls:// URLs, comma-separated');
    tlsScheme ||= url.protocol === 'tls:';
    credentials.add(`${url.username}:${url.password}`);
    if (url.password !== '') {
      urlAuth = {
        user: decodeURIComponent(url.username),
        pass: decodeURIComponent(url.password),
      };
    } else if (url.username !== '') {
      urlAuth = { token: decodeURIComponent(url.username) };
    }
    url.username = '';
    url.password = '';
    servers.push(`${url.protocol}//${url.host}`);
  }
  if (credentials.size > 1)
    throw new ConfigError('NATS_URL: every server must carry the same credentials (or none)');

  const methods = [
    urlAuth.user !== undefined || urlAuth.token !== undefined ? 'credentials in NATS_URL' : null,
    settings.NATS_CREDS_FILE !== undefined ? 'NATS_CREDS_FILE' : null,
    settings.NATS_NKEY_SEED_FILE !== undefined ? 'NATS_NKEY_SEED_FILE' : null,
  ].filter((m) => m !== null);
  if (methods.length > 1)
    throw new ConfigError(`NATS: use one way to authenticate, not ${methods.join(' and ')}`);

  if (settings.NATS_CREDS_FILE !== undefined) {
    const creds = readSetting('NATS_CREDS_FILE', settings.NATS_CREDS_FILE);
    if (!CREDS_JWT.test(creds) || !CREDS_SEED.test(creds))
      throw new ConfigError('NATS_CREDS_FILE does not hold a user JWT and an NKey user seed');
  }
  if (settings.NATS_NKEY_SEED_FILE !== undefined) {
    const seed = readSetting('NATS_NKEY_SEED_FILE', settings.NATS_NKEY_SEED_FILE).trim();
    if (!USER_SEED.test(seed))
      throw new ConfigError('NATS_NKEY_SEED_FILE does not hold an NKey user seed (SU…)');
  }
  if ((settings.NATS_TLS_CERT === undefined) !== (settings.NATS_TLS_KEY === undefined))
    throw new ConfigError('NATS_TLS_CERT and NATS_TLS_KEY go together');
  for (const [name, pem, what] of [
    ['NATS_TLS_CA', PEM_CERTIFICATE, 'certificate'],
    ['NATS_TLS_CERT', PEM_CERTIFICATE, 'certificate'],
    ['NATS_TLS_KEY', PEM_KEY, 'private key'],
  ] as const) {
    const path = settings[name];
    if (path !== undefined && !pem.test(readSetting(name, path)))
      throw new ConfigError(`${name} is not a PEM ${what}`);
  }

  const tlsFiles = {
    ...(settings.NATS_TLS_CA === undefined ? {} : { caFile: settings.NATS_TLS_CA }),
    ...(settings.NATS_TLS_CERT === undefined ? {} : { certFile: settings.NATS_TLS_CERT }),
    ...(settings.NATS_TLS_KEY === undefined ? {} : { keyFile: settings.NATS_TLS_KEY }),
  };
  const tls = tlsScheme || Object.keys(tlsFiles).length > 0;
  return {
    servers,
    ...urlAuth,
    ...(settings.NATS_CREDS_FILE === undefined ? {} : { credsFile: settings.NATS_CREDS_FILE }),
    ...(settings.NATS_NKEY_SEED_FILE === undefined
      ? {}
      : { nkeySeedFile: settings.NATS_NKEY_SEED_FILE }),
    ...(tls ? { tls: tlsFiles } : {}),
  };
}

/** NATS_URL as it may be logged: passwords and tokens masked. */
export function maskNatsUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((part) => {
      try {
        const url = new URL(part.trim());
        if (url.password !== '') url.password = '***';
        else if (url.username !== '') url.username = '***';
        return url.toString().replace(/\/$/, '');
      } catch {
        return '***';
      }
    })
    .join(',');
}

function readSetting(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name}: cannot read ${path} (${code})`);
  }
}
