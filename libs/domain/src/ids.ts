import { isValid, monotonicFactory } from 'ulid';

/**
 * The system's random bytes, drawn a block at a time: `ulid` asks its source for one byte per
 * character, so with its default source each id cost 16 calls into the system RNG (a profile
 * of the gateway under sends put ~3 % of its CPU there). Same source, one call per 256 ids.
 */
const pool = new Uint8Array(4096);
let taken = pool.length;
const pooledRandom = (): number => {
  if (taken === pool.length) {
    globalThis.crypto.getRandomValues(pool);
    taken = 0;
  }
  return pool[taken++]! / 256;
};

const nextUlid = monotonicFactory(pooledRandom);

/** A new ULID (26 chars, Crockford base32), monotonic within this process. */
export const newId = (): string => nextUlid();

export const isId = (value: string): boolean => value.length === 26 && isValid(value);
