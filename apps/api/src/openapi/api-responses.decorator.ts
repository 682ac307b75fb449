import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath, type ResponseObject } from '@nestjs/swagger';
import { ErrorEnvelopeSchema } from './error-envelope.schema.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'validation_error: the input failed validation; `details.fields` names the fields',
  401: 'unauthorized: missing or invalid credentials',
  403: 'forbidden: the caller lacks the capability',
  404: 'not_found: no such resource in your organization',
  406: 'validation_error: the Accept header allows none of the available representations',
  409: 'failed_precondition: the resource is in the wrong state',
  413: 'payload_too_large: body over the configured limit',
  429: 'rate_limited: a send rate is exhausted (see Retry-After), or an organization quota is reached (`details.reason`: `session_quota`, `pairing_quota`)',
  501: 'not_implemented',
  503: 'unavailable: no gateway could take the command in time; safe to retry',
};
const INTERNAL = 'internal: unexpected failure; carries a correlation id';

/** Documents the error responses of a route; every route also documents 500 `internal`. */
export const ApiErrors = (...statuses: (keyof typeof DESCRIPTIONS)[]): MethodDecorator =>
  applyDecorators(
    ApiExtraModels(ErrorEnvelopeSchema),
    ...[...statuses, 500].map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? INTERNAL,
        type: ErrorEnvelopeSchema,
      }),
    ),
  );

/** The same error response as a document object, for conventions applied to the whole document. */
export const errorResponse = (status: number): ResponseObject => ({
  description: DESCRIPTIONS[status] ?? INTERNAL,
  content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorEnvelopeSchema) } } },
});

export const ApiOk = (status: number, type?: Type<unknown>): MethodDecorator =>
  type
    ? ApiResponse({ status, type, description: 'success' })
    : ApiResponse({ status, description: 'success, no body' });
