import { forbidden, notFound, unavailable, validationError } from '@wagw/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestAuthenticator } from '../auth/request-authenticator.service.js';
import { toErrorResponse } from '../common/to-error-response.js';
import { RejectedBody } from '../common/validation.pipe.js';

/**
 * The sandbox: with `npm run start:sandbox` (the simulated network in this process), the console
 * plays the phone through the simulator's control API. The browser never talks to the simulator (another origin, no
 * CORS, maybe not reachable): the API forwards exactly three of its calls, authenticated like
 * the API (capability `manage`), and only when the simulator runs in this process:
 *
 * - `GET  /sandbox/v1/status`                → `{ "enabled": true }` (no auth; 404 when off)
 * - `POST /sandbox/v1/qr:scan`               → the simulator's `/sim/v1/qr:scan`
 * - `POST /sandbox/v1/pairing-codes:enter`   → `/sim/v1/pairing-codes:enter`
 * - `POST /sandbox/v1/messages`              → `/sim/v1/messages` (a simulated contact writes)
 *
 * Bodies and answers pass unchanged (the simulator's own validation and error envelope).
 */
export const SANDBOX_PREFIX = '/sandbox/v1';
const FORWARDED = new Set(['qr:scan', 'pairing-codes:enter', 'messages']);
const FORWARD_TIMEOUT_MS = 10_000;

export interface SandboxOptions {
  /** Where the simulator's control API is (`http://127.0.0.1:8090`) once it runs, else null. */
  controlUrl(): string | null;
}

export function registerSandbox(
  fastify: FastifyInstance,
  authenticator: RequestAuthenticator,
  options: SandboxOptions,
): void {
  const fail = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    const { status, body } = toErrorResponse(error, String(request.id));
    return reply.status(status).send(body);
  };

  fastify.get(`${SANDBOX_PREFIX}/status`, (_request, reply) => reply.send({ enabled: true }));

  fastify.post(`${SANDBOX_PREFIX}/*`, {
    // As for the API: authenticated before the body is read.
    onRequest: async (request, reply) => {
      try {
        const principal = await authenticator.authenticate(request.headers.authorization);
        if (!principal.capabilities.has('manage'))
          throw forbidden('the sandbox needs the manage capability');
      } catch (error) {
        return fail(request, reply.header('connection', 'close'), error);
      }
    },
    handler: async (request, reply) => {
      const action = (request.params as { '*': string })['*'];
      if (!FORWARDED.has(action)) return fail(request, reply, notFound('sandbox action'));
      if (request.body instanceof RejectedBody)
        return fail(
          request,
          reply,
          validationError('the body must be JSON', { body: ['not JSON'] }),
        );
      const base = options.controlUrl();
      if (!base) return fail(request, reply, unavailable('the simulator is not up yet'));
      let response: Response;
      try {
        response = await fetch(`${base}/sim/v1/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request.body ?? {}),
          signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
        });
      } catch {
        return fail(request, reply, unavailable('the simulator did not answer'));
      }
      const text = await response.text();
      return reply
        .status(response.status)
        .header('content-type', response.headers.get('content-type') ?? 'application/json')
        .send(text);
    },
  });
}
