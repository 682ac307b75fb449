import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The row a ciphertext belongs to: the creds of a session, or one Signal key of a session. */
export type AuthStateRow =
  | { sessionId: string; kind: 'creds' }
  | { sessionId: string; kind: 'key'; type: string; id: string };

/** A ciphertext that is malformed, tampered with, of another row, or under another key. */
export class AuthStateDecryptError extends Error {
  constructor(reason: string) {
    super(`cannot decrypt WhatsApp auth state: ${reason}`);
    this.name = 'AuthStateDecryptError';
  }
}

const VERSION = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/**
 * AES-256-GCM for WhatsApp auth state at rest.
 *
 * Layout: `version (1) | IV (12, random) | tag (16) | ciphertext`. The associated data names the
 * row (session, and key type + id) and the version, so a ciphertext copied into another row or
 * another session — or with its version byte altered — fails to authenticate. Random 96-bit IVs
 * are safe far beyond the number of writes one key sees here.
 */
export class AuthStateCipher {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new RangeError(`auth state key must be ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.key = Buffer.from(key);
  }

  /** A key given as base64 (e.g. `openssl rand -base64 32`); rejects anything but 32 bytes. */
  static fromBase64(encoded: string): AuthStateCipher {
    const trimmed = encoded.trim();
    // Buffer's decoder skips invalid characters silently: check the alphabet first.
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
      throw new RangeError('auth state key is not base64');
    }
    return new AuthStateCipher(Buffer.from(trimmed, 'base64'));
  }

  encrypt(plaintext: string, row: AuthStateRow): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(VERSION, row));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
  }

  decrypt(data: Buffer, row: AuthStateRow): string {
    if (data.length < HEADER_BYTES) throw new AuthStateDecryptError('too short');
    const version = data[0];
    if (version !== VERSION) throw new AuthStateDecryptError(`unknown version ${version}`);
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(1 + IV_BYTES, HEADER_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(version, row));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([
        decipher.update(data.subarray(HEADER_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new AuthStateDecryptError('authentication failed (wrong key, wrong row or tampered)');
    }
  }
}

/** JSON array: unambiguous whatever characters the ids contain. */
function associatedData(version: number, row: AuthStateRow): Buffer {
  const fields =
    row.kind === 'creds'
      ? ['wagw-auth', version, 'creds', row.sessionId]
      : ['wagw-auth', version, 'key', row.sessionId, row.type, row.id];
  return Buffer.from(JSON.stringify(fields), 'utf8');
}
