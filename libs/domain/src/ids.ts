import { isValid, monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new ULID (26 chars, Crockford base32), monotonic within this process. */
export const newId = (): string => nextUlid();

export const isId = (value: string): boolean => value.length === 26 && isValid(value);
