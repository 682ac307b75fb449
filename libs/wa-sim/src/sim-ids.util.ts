import { createHash, randomBytes, randomInt } from 'node:crypto';

/** No 0/O, 1/I/L, U/V: a code read aloud or typed from a phone screen cannot be misread. */
export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTWXYZ23456789';

export function newCredentialToken(): string {
  return `simtok_${randomBytes(24).toString('base64url')}`;
}

export function newQrRef(): string {
  return randomBytes(12).toString('base64url');
}

/** `ABCD-EFGH`: 8 characters from the unambiguous alphabet. */
export function newPairingCode(): string {
  let raw = '';
  for (let i = 0; i < 8; i++) raw += PAIRING_CODE_ALPHABET[randomInt(PAIRING_CODE_ALPHABET.length)];
  return `${raw.slice(0, 4)}-${raw.slice(4)}`;
}

/** Shaped like WhatsApp web message ids (`3EB0` + hex). */
export function newMessageId(): string {
  return `3EB0${randomBytes(10).toString('hex').toUpperCase()}`;
}

/**
 * A fake LID derived from the phone number, so a number keeps the same LID across relinks and
 * sim restarts, as a real account does.
 */
export function lidForPhone(phoneNumber: string): string {
  const digest = createHash('sha256').update(`wa-sim-lid:${phoneNumber}`).digest();
  // 15 digits, first one non-zero: 1e14 .. 1e15-1.
  const n = (digest.readBigUInt64BE(0) % 900_000_000_000_000n) + 100_000_000_000_000n;
  return `${n.toString()}@lid`;
}

export function jidForPhone(phoneNumber: string): string {
  return `${phoneNumber}@s.whatsapp.net`;
}
