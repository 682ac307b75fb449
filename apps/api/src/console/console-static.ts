import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
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

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/**
 * The web console: its page at `/` and its hashed assets under `/assets/`, nothing else (no
 * catch-all: an unknown path, `/api/...` included, still gets the contract's 404 envelope; the
 * console routes with `#/…`). An asset is served only when the build made a file of exactly that
 * name (no path reaches outside the folder), cached for good (its name changes with its bytes);
 * the page is never cached and is read at each request, so a rebuild is picked up without a
 * restart.
 */
export function registerConsole(
  fastify: FastifyInstance,
  logger: Logger,
  root = CONSOLE_DIST,
): void {
  const page = resolve(root, 'index.html');
  const assets = resolve(root, 'assets');
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
  fastify.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const { file } = request.params;
    const type = CONTENT_TYPES[extname(file)];
    const built = type ? await readdir(assets).catch(() => [] as string[]) : [];
    if (!type || !built.includes(file)) return reply.callNotFound();
    return reply
      .header('content-type', type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(await readFile(join(assets, file)));
  });
}
