import { SimError } from './sim.errors.js';

/** Digits with country code, no `+`, as WhatsApp numbers are written (E.164 without the plus). */
export const PHONE_NUMBER = /^[1-9]\d{6,14}$/;
export const CHANNEL_JID = /^\d{5,30}@newsletter$/;
export const MAX_TEXT = 65_536;

interface StringRule {
  pattern?: RegExp;
  max?: number;
  /** Said in the error when the pattern does not match. */
  expected?: string;
}

/**
 * Reads one JSON body (or path/query values) field by field, collecting every problem, then
 * `done()` throws a single 400 `validation_error` naming all the bad fields. Getters return a
 * harmless fallback for bad input, which `done()` guarantees is never used.
 */
export class ControlInputReader {
  private readonly problems: Record<string, string> = {};
  private readonly obj: Record<string, unknown>;

  /** `allowed` lists the accepted body fields; anything else is a validation error. */
  constructor(body: unknown, allowed: readonly string[], options: { optional?: boolean } = {}) {
    if (body === undefined || body === null) {
      if (!options.optional) this.problems['body'] = 'a JSON object is required';
      this.obj = {};
      return;
    }
    if (typeof body !== 'object' || Array.isArray(body)) {
      this.problems['body'] = 'must be a JSON object';
      this.obj = {};
      return;
    }
    this.obj = body as Record<string, unknown>;
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) this.problems[key] = 'unknown field';
    }
  }

  /** Validates a value that is not in the body (a path parameter). */
  check(field: string, value: string, rule: StringRule): string {
    return this.checkString(field, value, rule);
  }

  string(field: string, rule: StringRule = {}): string {
    return this.checkString(field, this.obj[field], rule);
  }

  optionalString(field: string, rule: StringRule, fallback: string): string {
    if (this.obj[field] === undefined) return fallback;
    return this.checkString(field, this.obj[field], rule) || fallback;
  }

  optionalInt(field: string, min: number, max: number, fallback: number): number {
    const value = this.obj[field];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problems[field] = `must be an integer from ${min} to ${max}`;
      return fallback;
    }
    return value;
  }

  optionalStringArray(field: string, maxItems: number): string[] | null {
    const value = this.obj[field];
    if (value === undefined) return null;
    if (
      !Array.isArray(value) ||
      value.length > maxItems ||
      !value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 200)
    ) {
      this.problems[field] = `must be an array of at most ${maxItems} non-empty strings`;
      return null;
    }
    return value as string[];
  }

  done(): void {
    if (Object.keys(this.problems).length > 0) {
      const fields = Object.keys(this.problems).join(', ');
      throw new SimError('validation_error', `invalid input: ${fields}`, { fields: this.problems });
    }
  }

  private checkString(field: string, value: unknown, rule: StringRule): string {
    const max = rule.max ?? 200;
    if (typeof value !== 'string' || value.length === 0) {
      this.problems[field] = 'a non-empty string is required';
      return '';
    }
    if (value.length > max) {
      this.problems[field] = `must be at most ${max} characters`;
      return '';
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.problems[field] = `must be ${rule.expected ?? `like ${rule.pattern.source}`}`;
      return '';
    }
    return value;
  }
}
