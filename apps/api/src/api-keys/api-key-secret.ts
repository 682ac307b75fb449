import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key tokens look like `wagw_<prefix>_<secret>`: the 16-hex-char prefix is a public lookup
 * handle (unique, indexed); the 256-bit secret is stored only as its SHA-256 digest. A slow
 * password hash buys nothing for a random 256-bit secret and would cost every request.
 */
const SCHEME = 'wagw_';
const PREFIX_LENGTH = 16;
const TOKEN = /^wagw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKeySecret {
  token: string;
  prefix: string;
  secretHash: Buffer;
}

export const isApiKeyToken = (token: string): boolean => token.startsWith(SCHEME);

export function generateApiKeySecret(): NewApiKeySecret {
  const prefix = randomBytes(PREFIX_LENGTH / 2).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { token: `${SCHEME}${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}

export function parseApiKeyToken(token: string): { prefix: string; secret: string } | null {
  const match = TOKEN.exec(token);
  return match ? { prefix: match[1]!, secret: match[2]! } : null;
}

export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** Constant-time comparison of a presented secret with the stored digest. */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const presented = hashSecret(secret);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}
