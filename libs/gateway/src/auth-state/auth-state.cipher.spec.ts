import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { AuthStateCipher, AuthStateDecryptError, type AuthStateRow } from './auth-state.cipher.js';

const KEY = randomBytes(32);
const S1 = '01JA0000000000000000000001';
const S2 = '01JA0000000000000000000002';
const preKey = (sessionId: string, id: string): AuthStateRow => ({
  sessionId,
  kind: 'key',
  type: 'pre-key',
  id,
});

describe('AuthStateCipher', () => {
  const cipher = new AuthStateCipher(KEY);

  it('round-trips, with a fresh IV each time, and hides the plaintext', () => {
    const plaintext = '{"noiseKey":{"private":"c2VjcmV0LXNlY3JldA=="}} é✓';
    const a = cipher.encrypt(plaintext, { sessionId: S1, kind: 'creds' });
    const b = cipher.encrypt(plaintext, { sessionId: S1, kind: 'creds' });
    expect(cipher.decrypt(a, { sessionId: S1, kind: 'creds' })).toBe(plaintext);
    expect(a.equals(b)).toBe(false);
    expect(a[0]).toBe(1);
    expect(a.length).toBe(1 + 12 + 16 + Buffer.byteLength(plaintext));
    expect(a.includes(Buffer.from('noiseKey'))).toBe(false);
  });

  it('binds a ciphertext to its row: another session, key id, type or kind fails', () => {
    const data = cipher.encrypt('v', preKey(S1, '7'));
    expect(cipher.decrypt(data, preKey(S1, '7'))).toBe('v');
    const elsewhere: AuthStateRow[] = [
      preKey(S2, '7'),
      preKey(S1, '8'),
      { sessionId: S1, kind: 'key', type: 'session', id: '7' },
      { sessionId: S1, kind: 'creds' },
      // Concatenation-ambiguous neighbours of ('pre-key', '7') must not authenticate either.
      { sessionId: S1, kind: 'key', type: 'pre-key7', id: '' },
      { sessionId: S1, kind: 'key', type: 'pre-', id: 'key7' },
    ];
    for (const row of elsewhere) {
      expect(() => cipher.decrypt(data, row)).toThrow(AuthStateDecryptError);
    }
  });

  it('rejects another key, a tampered byte, an unknown version and a truncated value', () => {
    const data = cipher.encrypt('secret', preKey(S1, '1'));
    expect(() => new AuthStateCipher(randomBytes(32)).decrypt(data, preKey(S1, '1'))).toThrow(
      AuthStateDecryptError,
    );
    for (const at of [1, 13, data.length - 1]) {
      const tampered = Buffer.from(data);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(() => cipher.decrypt(tampered, preKey(S1, '1'))).toThrow(AuthStateDecryptError);
    }
    const otherVersion = Buffer.from(data);
    otherVersion[0] = 2;
    expect(() => cipher.decrypt(otherVersion, preKey(S1, '1'))).toThrow(/unknown version 2/);
    expect(() => cipher.decrypt(data.subarray(0, 28), preKey(S1, '1'))).toThrow(/too short/);
  });

  it('takes exactly a 32-byte key, raw or base64', () => {
    expect(() => new AuthStateCipher(randomBytes(16))).toThrow(/32 bytes/);
    const fromB64 = AuthStateCipher.fromBase64(` ${KEY.toString('base64')}\n`);
    const data = cipher.encrypt('x', { sessionId: S1, kind: 'creds' });
    expect(fromB64.decrypt(data, { sessionId: S1, kind: 'creds' })).toBe('x');
    expect(() => AuthStateCipher.fromBase64(randomBytes(24).toString('base64'))).toThrow(
      /32 bytes/,
    );
    expect(() => AuthStateCipher.fromBase64('not base64 at all!')).toThrow(/not base64/);
    expect(() => AuthStateCipher.fromBase64('')).toThrow(/not base64/);
  });
});
