/** Every error code of the public contract (spec/api-v1.md "Errors"). */
export const ERROR_CODES = [
  'validation_error',
  'unauthorized',
  'forbidden',
  'not_found',
  'failed_precondition',
  'payload_too_large',
  'rate_limited',
  'internal',
  'not_implemented',
  'unavailable',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorDetails = Record<string, unknown>;

/** An error the client is meant to see: a contract code, a message and details. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string): DomainError =>
  new DomainError('not_found', `${what} not found`);

export const failedPrecondition = (message: string, details: ErrorDetails = {}): DomainError =>
  new DomainError('failed_precondition', message, details);

export const validationError = (message: string, details: ErrorDetails = {}): DomainError =>
  new DomainError('validation_error', message, details);

export const unauthorized = (message = 'missing or invalid credentials'): DomainError =>
  new DomainError('unauthorized', message);

export const forbidden = (message: string): DomainError => new DomainError('forbidden', message);

export const unavailable = (message: string): DomainError =>
  new DomainError('unavailable', message);

/** A quota or rate limit; `details.reason` says which (`session_quota`, `pairing_quota`, ...). */
export const rateLimited = (message: string, details: ErrorDetails = {}): DomainError =>
  new DomainError('rate_limited', message, details);
