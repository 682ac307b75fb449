import { describe, expect, it } from '@jest/globals';
import {
  generateApiKeySecret,
  isApiKeyToken,
  parseApiKeyToken,
  secretMatches,
} from './api-key-secret.js';

describe('api key secrets', () => {
  it('round-trips a generated token and matches only its own secret', () => {
    const key = generateApiKeySecret();
    expect(isApiKeyToken(key.token)).toBe(true);
    const parsed = parseApiKeyToken(key.token);
    expect(parsed?.prefix).toBe(key.prefix);
    expect(secretMatches(parsed!.secret, key.secretHash)).toBe(true);
    const other = generateApiKeySecret();
    expect(secretMatches(parseApiKeyToken(other.token)!.secret, key.secretHash)).toBe(false);
  });

  it('never stores the secret itself', () => {
    const key = generateApiKeySecret();
    const secret = parseApiKeyToken(key.token)!.secret;
    expect(key.secretHash.toString('hex')).not.toContain(Buffer.from(secret).toString('hex'));
    expect(key.secretHash).toHaveLength(32);
  });

  it('rejects malformed tokens', () => {
    const key = generateApiKeySecret();
    expect(parseApiKeyToken(key.token + 'x')).toBeNull();
    expect(parseApiKeyToken(key.token.replace('wagw_', 'wagx_'))).toBeNull();
    expect(parseApiKeyToken('wagw_')).toBeNull();
    expect(parseApiKeyToken('wagw_0123456789abcdef_short')).toBeNull();
  });
});
