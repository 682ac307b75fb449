import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './to-error-response.js';

/** The one global filter: every error leaves in the contract's envelope. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}

function sendError(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, unexpected } = toErrorResponse(exception, String(request.id));
  if (unexpected) request.log.error({ err: exception }, 'unexpected error');
  if (reply.sent) return;
  // A send rate that is exhausted says when to come back (spec: 429 with Retry-After).
  const retryAfter = (exception as { details?: { retryAfterSeconds?: unknown } } | null)?.details
    ?.retryAfterSeconds;
  if (status === 429 && typeof retryAfter === 'number')
    void reply.header('retry-after', String(retryAfter));
  void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
}
