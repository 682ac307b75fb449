import { describe, expect, it } from '@jest/globals';
import { loadWaSimConfig } from './wa-sim.config.js';

describe('loadWaSimConfig', () => {
  it('defaults to 127.0.0.1:8090 and the library TTLs', () => {
    expect(loadWaSimConfig({})).toEqual({
      port: 8090,
      host: '127.0.0.1',
      qrTtlMs: undefined,
      pairingCodeTtlMs: undefined,
      logLevel: 'info',
    });
  });

  it('reads the port, host and TTLs', () => {
    const config = loadWaSimConfig({
      WA_SIM_PORT: '9000',
      WA_SIM_HOST: '0.0.0.0',
      WA_SIM_QR_TTL_MS: '500',
      WA_SIM_PAIRING_CODE_TTL_MS: '1000',
      LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      port: 9000,
      host: '0.0.0.0',
      qrTtlMs: 500,
      pairingCodeTtlMs: 1000,
      logLevel: 'warn',
    });
  });

  it.each([
    ['WA_SIM_PORT', 'abc'],
    ['WA_SIM_PORT', '70000'],
    ['WA_SIM_PORT', '-1'],
    ['WA_SIM_QR_TTL_MS', '0'],
    ['LOG_LEVEL', 'loud'],
  ])('rejects %s=%s', (name, value) => {
    expect(() => loadWaSimConfig({ [name]: value })).toThrow(name);
  });
});
