import { createHash, randomBytes } from 'node:crypto';

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
