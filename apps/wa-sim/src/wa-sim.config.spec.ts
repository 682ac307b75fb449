import { describe, expect, it } from '@jest/globals';
import { loadWaSimConfig, WA_SIM_ENV } from './wa-sim.config.js';

const ROOT_KEY = Buffer.alloc(32, 7).toString('base64');

describe('loadWaSimConfig', () => {
  it('defaults to 127.0.0.1:8090 and the library TTLs', () => {
    expect(loadWaSimConfig({})).toEqual({
      port: 8090,
      host: '127.0.0.1',
      qrTtlMs: undefined,
      qrFirstTtlMs: undefined,
      qrMaxRefs: undefined,
      dataDir: './data/wa-sim',
      rootPrivateKey: undefined,
      mediaPort: 0,
      mediaPublicHost: undefined,
      logLevel: 'info',
    });
  });

  it('reads the port, host and TTLs', () => {
    const config = loadWaSimConfig({
      WA_SIM_PORT: '9000',
      WA_SIM_HOST: '0.0.0.0',
      WA_SIM_QR_TTL_MS: '500',
      WA_SIM_QR_FIRST_TTL_MS: '700',
      WA_SIM_QR_REFS: '3',
      WA_SIM_DATA_DIR: '/tmp/sim',
      WA_SIM_ROOT_KEY: ROOT_KEY,
      WA_SIM_MEDIA_PORT: '9443',
      WA_SIM_MEDIA_HOST: 'wa-sim',
      LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      port: 9000,
      host: '0.0.0.0',
      qrTtlMs: 500,
      qrFirstTtlMs: 700,
      qrMaxRefs: 3,
      dataDir: '/tmp/sim',
      rootPrivateKey: ROOT_KEY,
      mediaPort: 9443,
      mediaPublicHost: 'wa-sim',
      logLevel: 'warn',
    });
  });

  it.each([
    ['WA_SIM_PORT', 'abc'],
    ['WA_SIM_PORT', '70000'],
    ['WA_SIM_PORT', '-1'],
    ['WA_SIM_QR_TTL_MS', '0'],
    ['WA_SIM_QR_REFS', '0'],
    ['WA_SIM_ROOT_KEY', 'c2hvcnQ='],
    ['LOG_LEVEL', 'loud'],
  ])('rejects %s=%s', (name, value) => {
    expect(() => loadWaSimConfig({ [name]: value })).toThrow(name);
  });
});

it('never echoes a bad root key', () => {
  const secret = `${'A'.repeat(42)}==`;
  expect(() => loadWaSimConfig({ WA_SIM_ROOT_KEY: secret })).toThrow('WA_SIM_ROOT_KEY');
  expect(() => loadWaSimConfig({ WA_SIM_ROOT_KEY: secret })).not.toThrow(secret);
});

it('reads exactly the variables WA_SIM_ENV lists (what the deployment tests allow)', () => {
  const read = new Set<string>();
  const env = new Proxy(
    {},
    {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    },
  );
  loadWaSimConfig(env);
  expect([...read].sort()).toEqual([...WA_SIM_ENV].sort());
});
