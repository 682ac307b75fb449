import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { type ApiMessaging, AppModule } from './app.module.js';
import { RequestAuthenticator } from './auth/request-authenticator.service.js';
import { clientErrorHandler } from './common/client-error.handler.js';
import { rewriteCustomMethods } from './common/custom-methods.js';
import { PinoNestLogger } from './common/pino-nest-logger.js';
import { toErrorResponse } from './common/to-error-response.js';
import { RequestContextInterceptor } from './common/request-context.interceptor.js';
import { deferBodyErrors } from './common/validation.pipe.js';
import type { ApiConfig } from './config/api-config.js';
import { MetricsService } from './ops/metrics.service.js';
import { setupOpenApi } from './openapi/openapi.js';
import { registerConsole } from './console/console-static.js';
import { registerSandbox, type SandboxOptions } from './sandbox/sandbox-proxy.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const API_PREFIX = '/api/v1/';

/** Builds the API on Fastify: envelope on every path, request ids, metrics, OpenAPI. */
export async function createApp(
  config: ApiConfig,
  dataSource: DataSource,
  logger: Logger,
  messaging: ApiMessaging,
  options: { sandbox?: SandboxOptions } = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One access-log line per request is written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A request that does not fully arrive in time (a stalled body) is answered 408 and closed.
    // Node (20) honours the timeout only when the server is constructed with it, and checks
    // every `connectionsCheckingInterval`, so keep that well under the timeout.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1_000, config.REQUEST_TIMEOUT_MS / 4),
    },
    clientErrorHandler,
    // Correlation id: the caller's X-Request-Id when it is sane, else a fresh UUID (cheaper than a ULID).
    genReqId: (req: IncomingMessage) => {
      const header = req.headers['x-request-id'] ?? req.headers['wagw-request-id'];
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // `/sessions/{id}:start` and friends (see custom-methods.ts).
    rewriteUrl: (req: IncomingMessage) => rewriteCustomMethods(req.url ?? '/'),
    // The router rejects malformed URLs and over-long parameters before any hook or filter runs,
    // so the correlation id the onRequest hook sets on every other response is set here too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(error, String(request.id));
      void reply.header('x-request-id', request.id).status(status).send(body);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, dataSource, messaging),
    adapter,
    // Fastify's own JSON parser only: JSON in and out, anything else is a 400.
    { logger: new PinoNestLogger(logger), bufferLogs: false, bodyParser: false },
  );
  // The request id travels with the commands a request sends, to the gateway's logs.
  app.useGlobalInterceptors(new RequestContextInterceptor());
  app.setGlobalPrefix(API_PREFIX.slice(1, -1), {
    exclude: [
      { path: 'healthz', method: RequestMethod.GET },
      { path: 'readyz', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });

  const fastify = app.getHttpAdapter().getInstance();
  // JSON only; a body that is not (malformed, empty, another type) is a 400 after auth (401/403).
  deferBodyErrors(fastify);
  const metrics = app.get(MetricsService);
  const authenticator = app.get(RequestAuthenticator);
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // Authenticate API routes before their body is read: an anonymous caller never gets a body
    // parsed (or waited for). Unknown routes stay 404, probes and docs stay public.
    if (!request.routeOptions.url?.startsWith(API_PREFIX)) return;
    try {
      request.principal = await authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      const { status, body } = toErrorResponse(error, String(request.id));
      return reply.header('connection', 'close').status(status).send(body);
    }
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode === 429) metrics.rateLimited.inc({ route });
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  setupOpenApi(app);
  registerConsole(fastify, logger);
  if (options.sandbox) registerSandbox(fastify, authenticator, options.sandbox);
  await app.init();
  return app;
}
