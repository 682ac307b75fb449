import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  AuthStateCipher,
  AuthStateDecryptError,
  type AuthStateRow,
  authStateKeyId,
} from './auth-state.cipher.js';

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
    expect(a[0]).toBe(2);
    expect(a.subarray(1, 9).toString('hex')).toBe(authStateKeyId(KEY));
    expect(a.length).toBe(1 + 8 + 12 + 16 + Buffer.byteLength(plaintext));
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
    for (const at of [1, 9, 21, data.length - 1]) {
      const tampered = Buffer.from(data);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(() => cipher.decrypt(tampered, preKey(S1, '1'))).toThrow(AuthStateDecryptError);
    }
    const otherVersion = Buffer.from(data);
    otherVersion[0] = 3;
    expect(() => cipher.decrypt(otherVersion, preKey(S1, '1'))).toThrow(/unknown version 3/);
    expect(() => cipher.decrypt(data.subarray(0, 36), preKey(S1, '1'))).toThrow(/too short/);
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

describe('AuthStateCipher key rotation', () => {
  const OLD = randomBytes(32);
  const NEW = randomBytes(32);
  const row: AuthStateRow = { sessionId: S1, kind: 'creds' };

  /** A ciphertext as version 1 wrote it (one key, no key id), to read rows written before v2. */
  const v1 = (key: Buffer, plaintext: string, sessionId: string): Buffer => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    c.setAAD(Buffer.from(JSON.stringify(['wagw-auth', 1, 'creds', sessionId])));
    const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.of(1), iv, c.getAuthTag(), body]);
  };

  it('writes under the first key and reads under every configured one', () => {
    const before = new AuthStateCipher(OLD).encrypt('old', row);
    const rotating = new AuthStateCipher([NEW, OLD]);
    expect(rotating.decrypt(before, row)).toBe('old');
    const after = rotating.encrypt('new', row);
    expect(rotating.isCurrent(after)).toBe(true);
    expect(rotating.isCurrent(before)).toBe(false);
    expect(new AuthStateCipher(NEW).decrypt(after, row)).toBe('new');
    // Once the old key is dropped, what was left under it says which key it needs.
    expect(() => new AuthStateCipher(NEW).decrypt(before, row)).toThrow(
      new RegExp(`key ${authStateKeyId(OLD)}, which is not configured`),
    );
  });

  it('reads version 1 rows with whichever key opens them, bound to their row', () => {
    const legacy = v1(OLD, 'legacy', S1);
    expect(new AuthStateCipher([NEW, OLD]).decrypt(legacy, row)).toBe('legacy');
    expect(new AuthStateCipher([NEW, OLD]).isCurrent(legacy)).toBe(false);
    expect(() => new AuthStateCipher([NEW]).decrypt(legacy, row)).toThrow(AuthStateDecryptError);
    expect(() =>
      new AuthStateCipher([NEW, OLD]).decrypt(legacy, { sessionId: S2, kind: 'creds' }),
    ).toThrow(AuthStateDecryptError);
  });

  it('parses a comma-separated list, current key first', () => {
    const cipher = AuthStateCipher.fromBase64(
      `${NEW.toString('base64')}, ${OLD.toString('base64')}`,
    );
    expect(cipher.currentKeyId).toBe(authStateKeyId(NEW));
    expect(cipher.decrypt(new AuthStateCipher(OLD).encrypt('x', row), row)).toBe('x');
  });
});
