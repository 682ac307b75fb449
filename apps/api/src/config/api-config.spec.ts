import { describe, expect, it } from '@jest/globals';
import { ConfigError, describeConfig, loadApiConfig } from './api-config.js';

describe('loadApiConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadApiConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.DATA_DIR).toBe('./data');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.AUTH_ORG_CLAIM).toBe('org_id');
    expect(config.AUTH_ROLE_CLAIM).toBe('role');
    expect(config.AUTH_SUBJECT_CLAIM).toBe('sub');
    expect(config.jwtEnabled).toBe(false);
  });

  it('parses numbers and rejects nonsense', () => {
    expect(loadApiConfig({ PORT: '9000' }).PORT).toBe(9000);
    expect(() => loadApiConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadApiConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('requires issuer and audience with a JWKS', () => {
    expect(() => loadApiConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks' })).toThrow(
      /AUTH_ISSUER/,
    );
    const config = loadApiConfig({
      AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks',
      AUTH_ISSUER: 'iss',
      AUTH_AUDIENCE: 'aud',
    });
    expect(config.jwtEnabled).toBe(true);
  });

  it('masks the database password when described', () => {
    const config = loadApiConfig({ DATABASE_URL: 'postgres://app:hunter2@db:5432/app' });
    expect(JSON.stringify(describeConfig(config))).not.toContain('hunter2');
  });

  it('validates the NATS settings, and masks NATS passwords and tokens when described', () => {
    expect(() => loadApiConfig({ NATS_URL: 'http://nats:4222' })).toThrow(/NATS_URL/);
    expect(() => loadApiConfig({ NATS_TLS_CA: '/etc/ca.pem' })).toThrow(/NATS_URL is not/);
    const described = JSON.stringify(
      describeConfig(loadApiConfig({ NATS_URL: 'nats://api:hunter2@n1,nats://api:hunter2@n2' })),
    );
    expect(described).not.toContain('hunter2');
    expect(described).toContain('nats://api:***@n1');
    const token = JSON.stringify(describeConfig(loadApiConfig({ NATS_URL: 'tls://s3cr3t@n1' })));
    expect(token).not.toContain('s3cr3t');
  });
});

describe('loadApiConfig optional settings', () => {
  it('reads optional variables that have no default', () => {
    const config = loadApiConfig({
      DATABASE_URL: 'postgres://db/app',
      AUTH_JWKS_URL: 'https://id.example/jwks',
      AUTH_ISSUER: 'i',
      AUTH_AUDIENCE: 'a',
    });
    expect(config.DATABASE_URL).toBe('postgres://db/app');
    expect(config.AUTH_ISSUER).toBe('i');
    expect(config.jwtEnabled).toBe(true);
  });
});
