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
  void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
}
