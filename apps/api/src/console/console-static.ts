import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/** `npm run build` puts the web console here (apps/console, Vite). */
export const CONSOLE_DIST = resolve(import.meta.dirname, '../../../console/dist');

/**
 * Only the page and the assets: it loads nothing from elsewhere (no CDN), talks to this origin
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
 * The web console at `/`: one route per built file (no catch-all, so an unknown path, `/api/...`
 * included, still gets the contract's 404 envelope; the console routes with `#/…`). Hashed assets
 * are cached for good, the page never (a new build is picked up at once).
 */
export function registerConsole(
  fastify: FastifyInstance,
  logger: Logger,
  root = CONSOLE_DIST,
): void {
  if (!existsSync(resolve(root, 'index.html'))) {
    logger.warn({ root }, 'web console not built (npm run build): not served');
    return;
  }
  void fastify.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    decorateReply: false,
    setHeaders: (reply, path) => {
      if (path.endsWith('.html')) {
        void reply.header('cache-control', 'no-cache');
        void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
        void reply.header('x-content-type-options', 'nosniff');
        void reply.header('referrer-policy', 'no-referrer');
      } else {
        void reply.header('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
}
