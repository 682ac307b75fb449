import type { ErrorCode } from '@wagw/domain';

/** The one mapping from contract error codes to HTTP statuses (exhaustive by type). */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  failed_precondition: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
};

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

export const envelope = (
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ErrorEnvelope => ({ error: { code, message, details } });
