import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** The row a ciphertext belongs to: the creds of a session, or one Signal key of a session. */
export type AuthStateRow =
  | { sessionId: string; kind: 'creds' }
  | { sessionId: string; kind: 'key'; type: string; id: string };

/** A ciphertext that is malformed, tampered with, of another row, or under an unknown key. */
export class AuthStateDecryptError extends Error {
  constructor(reason: string) {
    super(`cannot decrypt WhatsApp auth state: ${reason}`);
    this.name = 'AuthStateDecryptError';
  }
}

/** Version 1: no key id (one key). Version 2: the key id in the header, so keys can rotate. */
const V1 = 1;
const V2 = 2;
const KEY_BYTES = 32;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const V1_HEADER = 1 + IV_BYTES + TAG_BYTES;
const V2_HEADER = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

/**
 * A key's id: the first 8 bytes of its SHA-256. Stable whatever the key is called in the
 * configuration, and says nothing useful about the key.
 */
export function authStateKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES).toString('hex');
}

/** A 32-byte key given as base64 (e.g. `openssl rand -base64 32`); anything else is refused. */
export function parseAuthStateKey(encoded: string): Buffer {
  const trimmed = encoded.trim();
  // Buffer's decoder skips invalid characters silently: check the alphabet first.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed))
    throw new RangeError('auth state key is not base64');
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES)
    throw new RangeError(`auth state key must be ${KEY_BYTES} bytes, got ${key.length}`);
  return key;
}

/**
 * AES-256-GCM for WhatsApp auth state at rest, under a keyring: the first key encrypts, every
 * key decrypts (the previous ones while a rotation re-encrypts the rows).
 *
 * Layout (v2): `2 | key id (8) | IV (12, random) | tag (16) | ciphertext`. The associated data
 * names the row (session, and key type + id), the version and the key id, so a ciphertext copied
 * into another row or session, or with its header altered, fails to authenticate. Rows of v1
 * (`1 | IV | tag | ciphertext`, written before keys could rotate) are read with whichever key
 * opens them. Random 96-bit IVs are safe far beyond the number of writes one key sees here.
 */
export class AuthStateCipher {
  private readonly keys: { id: string; key: Buffer }[];
  private readonly byId: Map<string, Buffer>;

  /** `keys[0]` is the current key. */
  constructor(keys: Buffer | readonly Buffer[]) {
    const list = Buffer.isBuffer(keys) ? [keys] : [...keys];
    if (list.length === 0) throw new RangeError('at least one auth state key is needed');
    for (const key of list) {
      if (key.length !== KEY_BYTES)
        throw new RangeError(`auth state key must be ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.keys = list.map((key) => ({ id: authStateKeyId(key), key: Buffer.from(key) }));
    this.byId = new Map(this.keys.map((k) => [k.id, k.key]));
  }

  /** Keys as base64, comma-separated, the current one first. */
  static fromBase64(encoded: string): AuthStateCipher {
    return new AuthStateCipher(encoded.split(',').map(parseAuthStateKey));
  }

  /** The id of the key new ciphertexts are written under. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  /** The bytes every ciphertext under the current key starts with (version and key id). */
  get currentPrefix(): Buffer {
    return Buffer.concat([Buffer.of(V2), Buffer.from(this.currentKeyId, 'hex')]);
  }

  /** Whether `data` is already under the current key (a rotation skips it). */
  isCurrent(data: Buffer): boolean {
    return (
      data.length >= V2_HEADER && data.subarray(0, 1 + KEY_ID_BYTES).equals(this.currentPrefix)
    );
  }

  encrypt(plaintext: string, row: AuthStateRow): Buffer {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(V2, id, row));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(V2), Buffer.from(id, 'hex'), iv, cipher.getAuthTag(), body]);
  }

  decrypt(data: Buffer, row: AuthStateRow): string {
    const version = data[0];
    if (version === V2) {
      if (data.length < V2_HEADER) throw new AuthStateDecryptError('too short');
      const id = data.subarray(1, 1 + KEY_ID_BYTES).toString('hex');
      const key = this.byId.get(id);
      if (!key) throw new AuthStateDecryptError(`written under key ${id}, which is not configured`);
      const plain = open(key, data.subarray(1 + KEY_ID_BYTES), associatedData(V2, id, row));
      if (plain === null)
        throw new AuthStateDecryptError('authentication failed (wrong row or tampered)');
      return plain;
    }
    if (version === V1) {
      if (data.length < V1_HEADER) throw new AuthStateDecryptError('too short');
      for (const { key } of this.keys) {
        const plain = open(key, data.subarray(1), associatedData(V1, null, row));
        if (plain !== null) return plain;
      }
      throw new AuthStateDecryptError('authentication failed (wrong key, wrong row or tampered)');
    }
    throw new AuthStateDecryptError(`unknown version ${String(version)}`);
  }
}

/** `iv | tag | ciphertext` opened with `key`, or null when it does not authenticate. */
function open(key: Buffer, sealed: Buffer, aad: Buffer): string | null {
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return null;
  }
}

/** JSON array: unambiguous whatever characters the ids contain. */
function associatedData(version: number, keyId: string | null, row: AuthStateRow): Buffer {
  const head = version === V1 ? ['wagw-auth', version] : ['wagw-auth', version, keyId];
  const fields =
    row.kind === 'creds'
      ? [...head, 'creds', row.sessionId]
      : [...head, 'key', row.sessionId, row.type, row.id];
  return Buffer.from(JSON.stringify(fields), 'utf8');
}
