import { describe, expect, it } from '@jest/globals';
import { describeGatewayConfig, GatewayConfigError, loadGatewayConfig } from './gateway-config.js';

describe('loadGatewayConfig', () => {
  it('has working defaults', () => {
    const config = loadGatewayConfig({});
    expect(config.GATEWAY_ID).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(config.GATEWAY_CAPACITY).toBe(1000);
    expect(config.LEASE_TTL_MS).toBe(10_000);
    expect(config.WA_NETWORK).toBe('whatsapp');
  });

  it('names the network, and takes the sandbox by its base URL', () => {
    expect(() => loadGatewayConfig({ WA_NETWORK: 'sim' })).toThrow(/WA_NETWORK/);
    expect(() => loadGatewayConfig({ WA_SIM_URL: 'localhost:8090' })).toThrow(/WA_SIM_URL/);
    const config = loadGatewayConfig({ WA_NETWORK: 'sandbox', WA_SIM_URL: 'http://sim:8090' });
    expect(config.WA_NETWORK).toBe('sandbox');
    expect(config.WA_SIM_URL).toBe('http://sim:8090');
  });

  it('rejects ids that would break NATS subjects, and bad keys', () => {
    expect(() => loadGatewayConfig({ GATEWAY_ID: 'gw.1' })).toThrow(GatewayConfigError);
    expect(() =>
      loadGatewayConfig({ AUTH_STATE_KEY: Buffer.alloc(16).toString('base64') }),
    ).toThrow(/32 bytes/);
    expect(() => loadGatewayConfig({ LEASE_TTL_MS: '10' })).toThrow(/LEASE_TTL_MS/);
  });

  it('never describes the key or passwords', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const text = JSON.stringify(
      describeGatewayConfig(
        loadGatewayConfig({
          AUTH_STATE_KEY: key,
          DATABASE_URL: 'postgres://u:pw@h/db',
          NATS_URL: 'nats://t0ken@nats:4222',
        }),
      ),
    );
    expect(text).not.toContain(key);
    expect(text).not.toContain(':pw@');
    expect(text).not.toContain('t0ken');
  });

  it('validates the NATS settings', () => {
    expect(() =>
      loadGatewayConfig({ NATS_URL: 'nats://a:b@n1', NATS_NKEY_SEED_FILE: '/x' }),
    ).toThrow(/one way to authenticate/);
  });
});
