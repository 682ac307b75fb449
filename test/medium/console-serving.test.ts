import '../support/esm-require-shim.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type InProcessApi, startInProcessApi } from '../support/in-process-api.js';

/**
 * The API serves the built web console (`npm run build` makes apps/console/dist) beside the
 * API, without taking any path from it: the page at `/`, hashed assets under `/assets/`, and
 * every other path keeps the contract's 404 envelope. The sandbox is off unless the simulator
 * runs in the process (`npm start`): its routes do not exist then.
 */
describe('the console beside the API', () => {
  let api: InProcessApi;
  beforeAll(async () => {
    api = await startInProcessApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const get = (url: string, method: 'GET' | 'POST' | 'HEAD' = 'GET') =>
    api.app.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) });

  it('serves the page at / with a policy that keeps it on this origin, never cached', async () => {
    const page = await get('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.body).toContain('<div id="app"></div>');
    // No CDN: every script and style the page names is one of ours.
    const urls = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.filter((u) => !u.startsWith('./assets/') && u !== 'data:,')).toEqual([]);
  });

  it('serves the hashed assets for good, and 404s in the envelope for unknown ones', async () => {
    const page = await get('/');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await get(`/${script}`);
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // Only files the build made, by exact name: nothing outside the folder, however encoded.
    for (const url of [
      '/assets/nope.js',
      '/assets/..%2Findex.html',
      '/assets/..%2F..%2F..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2fvite.config.mjs',
      '/assets/',
    ]) {
      const missing = await get(url);
      expect({ url, status: missing.statusCode, body: missing.json() }).toEqual({
        url,
        status: 404,
        body: { error: { code: 'not_found', message: expect.any(String), details: {} } },
      });
    }
  });

  it('leaves every other path to the API: unknown routes are the 404 envelope, docs are served', async () => {
    for (const url of ['/api/v1/nope', '/api/nope', '/nope', '/index.html/x', '/sessions']) {
      const response = await get(url);
      expect({ url, status: response.statusCode, body: response.json() }).toEqual({
        url,
        status: 404,
        body: { error: { code: 'not_found', message: expect.any(String), details: {} } },
      });
    }
    expect((await get('/api/docs-json')).statusCode).toBe(200);
    expect((await get('/api/docs')).statusCode).toBe(200);
    expect((await get('/healthz')).statusCode).toBe(200);
    // An API route still authenticates.
    expect((await get('/api/v1/sessions')).statusCode).toBe(401);
  });

  it('has no sandbox when no simulator runs in the process', async () => {
    for (const [method, url] of [
      ['GET', '/sandbox/v1/status'],
      ['POST', '/sandbox/v1/qr:scan'],
      ['POST', '/sandbox/v1/messages'],
    ] as const) {
      const response = await get(url, method);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 404 });
    }
  });
});
