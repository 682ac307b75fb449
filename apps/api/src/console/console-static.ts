import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/** `npm run build` puts the web console here (apps/console, Vite). */
export const CONSOLE_DIST = resolve(import.meta.dirname, '../../../console/dist');

/**
 * Only the page and its assets: it loads nothing from elsewhere (no CDN), talks to this origin
 * only, shows the QR as a `blob:` image.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The web console: its page at `/` and its hashed assets under `/assets/`, nothing else (no
 * catch-all: an unknown path, `/api/...` included, still gets the contract's 404 envelope; the
 * console routes with `#/…`). Assets are cached for good; the page never, and it is read at each
 * request, so a rebuild is picked up without a restart.
 */
export function registerConsole(
  fastify: FastifyInstance,
  logger: Logger,
  root = CONSOLE_DIST,
): void {
  const page = resolve(root, 'index.html');
  if (!existsSync(page)) {
    logger.warn({ root }, 'web console not built (npm run build): not served');
    return;
  }
  fastify.get('/', async (_request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(await readFile(page)),
  );
  void fastify.register(fastifyStatic, {
    root: resolve(root, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    setHeaders: (reply) => {
      void reply.header('cache-control', 'public, max-age=31536000, immutable');
      void reply.header('x-content-type-options', 'nosniff');
    },
  });
}
