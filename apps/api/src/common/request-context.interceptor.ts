import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { withRequestId } from '@wagw/messaging';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';

/**
 * Runs each HTTP handler with its request's correlation id (`x-request-id`) in context, so the
 * commands it sends carry it to the gateway (NATS header `Wagw-Request-Id`), which logs it.
 */
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return new Observable((subscriber) =>
      withRequestId(String(request.id), () => next.handle().subscribe(subscriber)),
    );
  }
}
