import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadEnvConfig } from './env-config.js';
import { maskNatsUrl, NatsSettings, resolveNatsSettings } from './nats-settings.js';

const dir = mkdtempSync(join(tmpdir(), 'wagw-nats-settings-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const SEED = `SU${'A'.repeat(56)}`;
const CREDS = `-----BEGIN NATS USER JWT-----
eyJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig
------END NATS USER JWT------

************************* IMPORTANT *************************
-----BEGIN USER NKEY SEED-----
${SEED}
------END USER NKEY SEED------
`;
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const resolve = (env: Record<string, string>) =>
  resolveNatsSettings(loadEnvConfig(NatsSettings, env, 'test configuration'));

describe('resolveNatsSettings', () => {
  it('is null without NATS_URL, and refuses NATS files without it', () => {
    expect(resolve({})).toBeNull();
    expect(() => resolve({ NATS_CREDS_FILE: file('a.creds', CREDS) })).toThrow(
      /NATS_CREDS_FILE is set but NATS_URL is not/,
    );
  });

  it('moves credentials out of the URLs: user and password, or a token', () => {
    expect(
      resolve({ NATS_URL: 'nats://api:s%40cret@nats-1:4222,nats://api:s%40cret@nats-2' }),
    ).toEqual({
      servers: ['nats://nats-1:4222', 'nats://nats-2'],
      user: 'api',
      pass: 's@cret',
    });
    expect(resolve({ NATS_URL: 'nats://t0ken@nats:4222' })).toEqual({
      servers: ['nats://nats:4222'],
      token: 't0ken',
    });
    expect(resolve({ NATS_URL: 'nats://nats:4222' })).toEqual({ servers: ['nats://nats:4222'] });
  });

  it('requires TLS for tls:// URLs and NATS_TLS_* files', () => {
    expect(resolve({ NATS_URL: 'tls://nats:4222' })?.tls).toEqual({});
    const ca = file('ca.pem', PEM);
    const cert = file('cert.pem', PEM);
    const key = file('key.pem', '-----BEGIN PRIVATE KEY-----\n');
    expect(
      resolve({ NATS_URL: 'nats://nats', NATS_TLS_CA: ca, NATS_TLS_CERT: cert, NATS_TLS_KEY: key })
        ?.tls,
    ).toEqual({ caFile: ca, certFile: cert, keyFile: key });
  });

  it('takes a .creds file or an NKey seed file, once checked', () => {
    const creds = file('user.creds', CREDS);
    const seed = file('user.nk', `${SEED}\n`);
    expect(resolve({ NATS_URL: 'nats://nats', NATS_CREDS_FILE: creds })?.credsFile).toBe(creds);
    expect(resolve({ NATS_URL: 'nats://nats', NATS_NKEY_SEED_FILE: seed })?.nkeySeedFile).toBe(
      seed,
    );
  });

  it.each([
    [{ NATS_URL: 'http://nats:4222' }, /nats:\/\/ or tls:\/\//],
    [{ NATS_URL: 'nats://' }, /nats:\/\/ or tls:\/\//],
    [{ NATS_URL: 'nats://nats/path' }, /nats:\/\/ or tls:\/\//],
    [{ NATS_URL: 'nats://a:b@n1,nats://a:c@n2' }, /same credentials/],
    [{ NATS_URL: 'nats://a:b@n1', NATS_CREDS_FILE: 'CREDS' }, /one way to authenticate/],
    [{ NATS_URL: 'nats://n1', NATS_CREDS_FILE: join(dir, 'missing') }, /cannot read .*ENOENT/],
    [{ NATS_URL: 'nats://n1', NATS_CREDS_FILE: 'PEM' }, /user JWT and an NKey user seed/],
    [{ NATS_URL: 'nats://n1', NATS_NKEY_SEED_FILE: 'PEM' }, /NKey user seed/],
    [{ NATS_URL: 'nats://n1', NATS_TLS_CERT: 'PEM' }, /NATS_TLS_CERT and NATS_TLS_KEY go together/],
    [{ NATS_URL: 'nats://n1', NATS_TLS_CA: 'CREDS' }, /NATS_TLS_CA is not a PEM certificate/],
    [
      { NATS_URL: 'nats://n1', NATS_TLS_CERT: 'PEM', NATS_TLS_KEY: 'PEM' },
      /NATS_TLS_KEY is not a PEM private key/,
    ],
    [{ NATS_PREFIX: 'wa.gw' }, /NATS_PREFIX/],
  ])('refuses %p', (env, message) => {
    const withFiles = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        v === 'CREDS' ? file('c.creds', CREDS) : v === 'PEM' ? file('x.pem', PEM) : v,
      ]),
    );
    const run = () => resolve(withFiles);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

describe('maskNatsUrl', () => {
  it('masks passwords and tokens of every server, and nothing else', () => {
    expect(maskNatsUrl('nats://api:hunter2@n1:4222,tls://t0ken@n2:4222')).toBe(
      'nats://api:***@n1:4222,tls://***@n2:4222',
    );
    expect(maskNatsUrl('nats://n1:4222')).toBe('nats://n1:4222');
    expect(maskNatsUrl(undefined)).toBeUndefined();
  });
});
