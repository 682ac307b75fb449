/** A payload read off the wire failed validation; the message names the field. */
export class InvalidPayloadError extends Error {}

/** Field readers for payloads off the wire: each throws InvalidPayloadError naming the field. */

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function record(payload: unknown, what = 'payload'): Record<string, unknown> {
  if (!isRecord(payload)) throw new InvalidPayloadError(`${what} must be an object`);
  return payload;
}

/** Postgres `text` refuses NUL, and no field of ours needs control characters but newlines. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function text(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength)
    throw new InvalidPayloadError(`${field} must be a string of 1-${maxLength} characters`);
  if (CONTROL.test(value)) throw new InvalidPayloadError(`${field} holds control characters`);
  return value;
}

export function matching(value: unknown, field: string, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new InvalidPayloadError(`${field} must be ${what}`);
  return value;
}

export function nullable<T>(value: unknown, read: (value: unknown) => T): T | null {
  return value === null ? null : read(value);
}

export function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidPayloadError(`${field} must be an integer in [${min}, ${max}]`);
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new InvalidPayloadError(`${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** Milliseconds since the epoch, within what both JavaScript and Postgres can represent. */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;

export const timestampMs = (value: unknown, field: string): number =>
  integer(value, field, 0, MAX_TIMESTAMP_MS);

/** ULID as `@wagw/domain` makes them: 26 Crockford base32 characters, upper case. */
export const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
