import { HttpException } from '@nestjs/common';
import { DomainError, type ErrorCode } from '@wagw/domain';
import { ERROR_STATUS, envelope, type ErrorEnvelope } from './error-status.js';

export interface ErrorResponse {
  status: number;
  body: ErrorEnvelope;
  /** Unexpected: log with the stack; the client only sees a correlation id. */
  unexpected: boolean;
}

/** Fastify's own client-error codes (body parsing, content type, limits) → contract codes. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'validation_error', message: 'malformed JSON body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'validation_error', message: 'empty JSON body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'validation_error',
    message: 'unsupported content type: send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'validation_error',
    message: 'invalid content length',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', message: 'request body too large' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'validation_error', message: 'invalid content type' },
  FST_ERR_BAD_URL: { code: 'validation_error', message: 'malformed URL' },
  // A path parameter that long cannot name any resource.
  FST_ERR_MAX_PARAM_LENGTH: { code: 'not_found', message: 'route not found' },
  FST_ERR_ASYNC_CONSTRAINT: { code: 'not_found', message: 'route not found' },
};

const HTTP_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'validation_error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'not_found',
  406: 'validation_error',
  409: 'failed_precondition',
  411: 'validation_error',
  413: 'payload_too_large',
  414: 'validation_error',
  415: 'validation_error',
  429: 'rate_limited',
  431: 'validation_error',
  501: 'not_implemented',
  503: 'unavailable',
};

/**
 * Turns anything thrown into the contract's envelope. Known client errors keep their meaning;
 * everything else is `500 internal` carrying only the correlation id.
 */
export function toErrorResponse(error: unknown, correlationId: string): ErrorResponse {
  if (error instanceof DomainError) {
    return {
      status: ERROR_STATUS[error.code],
      body: envelope(error.code, error.message, error.details),
      unexpected: false,
    };
  }
  const fastifyCode = (error as { code?: unknown } | null)?.code;
  if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
    const mapped = FASTIFY_CODES[fastifyCode]!;
    return {
      status: ERROR_STATUS[mapped.code],
      body: envelope(mapped.code, mapped.message),
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = HTTP_STATUS_CODES[status];
    if (code) {
      const message = status === 404 || status === 405 ? 'route not found' : httpMessage(error);
      // 406 is content negotiation, not a body problem: it keeps its own status.
      const httpStatus = status === 406 ? 406 : ERROR_STATUS[code];
      return { status: httpStatus, body: envelope(code, message), unexpected: false };
    }
  }
  // Fastify client errors that carry a 4xx status but no code of ours (e.g. malformed URL).
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  const statusErrorCode =
    typeof statusCode === 'number' ? HTTP_STATUS_CODES[statusCode] : undefined;
  if (statusErrorCode) {
    const code = statusErrorCode;
    return { status: ERROR_STATUS[code], body: envelope(code, 'bad request'), unexpected: false };
  }
  return {
    status: 500,
    body: envelope('internal', 'internal error', { correlationId }),
    unexpected: true,
  };
}

function httpMessage(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return typeof message === 'string' ? message : error.message;
}
