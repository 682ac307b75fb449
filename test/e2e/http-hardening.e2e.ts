import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ApiProcess,
  call,
  cliCreateApiKey,
  migrate,
  startApiProcess,
} from '../support/api-process.js';
import { createTestDatabase, dropTestDatabase } from '../support/test-database.js';

/** A raw HTTP/1.1 exchange: write what is given, collect what comes back until the server closes. */
function rawExchange(
  port: number,
  parts: string[],
): { socket: Socket; response: Promise<{ text: string; closedAfterMs: number }> } {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => (text += chunk.toString()));
  const response = new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    socket.on('error', () => undefined);
  });
  socket.on('connect', () => parts.forEach((p) => socket.write(p)));
  return { socket, response };
}

const envelopeOf = (text: string): any => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
const statusOf = (text: string): number => Number(text.split(' ')[1]);

describe('HTTP hardening: slow clients, early authentication, client errors, shutdown', () => {
  let db: { name: string; url: string };
  let api: ApiProcess;
  let key: string;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase('wagw_e2e_http');
    await migrate(db.url);
    api = await startApiProcess({ DATABASE_URL: db.url, REQUEST_TIMEOUT_MS: '1500' });
    port = Number(new URL(api.baseUrl).port);
    key = (await cliCreateApiKey({ DATABASE_URL: db.url }, 'org_http')).secret;
  });

  afterAll(async () => {
    await api?.stop();
    if (db) await dropTestDatabase(db.name);
  });

  it('answers 401 before an unauthenticated body arrives, without reading it', async () => {
    const { socket, response } = rawExchange(port, [
      'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n' +
        'content-length: 1000000\r\n\r\n{"label":',
    ]);
    const first = await new Promise<string>((resolve) =>
      socket.once('data', (c) => resolve(String(c))),
    );
    expect(statusOf(first)).toBe(401);
    expect(first).toMatch(/x-request-id: /i);
    socket.destroy();
    await response;
  });

  it('answers 408 in the envelope and closes a request whose body stalls', async () => {
    const { response } = rawExchange(port, [
      `POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${key}\r\n` +
        'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"label":',
    ]);
    const { text, closedAfterMs } = await response;
    expect(statusOf(text)).toBe(408);
    expect(envelopeOf(text).error.code).toBe('validation_error');
    expect(text).toMatch(/x-request-id: /i);
    // REQUEST_TIMEOUT_MS is 1.5 s: the connection does not linger for minutes.
    expect(closedAfterMs).toBeLessThan(15_000);
  });

  it('answers oversized headers (431) and malformed requests (400) in the envelope', async () => {
    const big = await rawExchange(port, [
      `GET /healthz HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ]).response;
    expect(statusOf(big.text)).toBe(431);
    expect(envelopeOf(big.text).error).toMatchObject({ code: 'validation_error' });
    expect(big.text).toMatch(/x-request-id: /i);

    const bad = await rawExchange(port, ['GET /healthz HTTP/1.1\r\nHost x\r\n\r\n']).response;
    expect(statusOf(bad.text)).toBe(400);
    expect(envelopeOf(bad.text).error).toMatchObject({ code: 'validation_error' });
    expect(bad.text).toMatch(/x-request-id: /i);
  });

  it('routes the percent-encoded internal form nowhere (404), like the plain one', async () => {
    const created = await call(api.baseUrl, 'POST', '/api/v1/sessions', { token: key });
    for (const form of ['~stop', '%7Estop', '%7estop']) {
      const res = await call(api.baseUrl, 'POST', `/api/v1/sessions/${created.body.id}/${form}`, {
        token: key,
      });
      expect({ form, status: res.status, code: res.body.error?.code }).toEqual({
        form,
        status: 404,
        code: 'not_found',
      });
    }
  });

  it('shuts down within the grace period despite a stalled upload, and exits 0', async () => {
    const slow = await startApiProcess({
      DATABASE_URL: db.url,
      REQUEST_TIMEOUT_MS: '600000',
      SHUTDOWN_GRACE_MS: '500',
    });
    const slowPort = Number(new URL(slow.baseUrl).port);
    const { response } = rawExchange(slowPort, [
      `POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${key}\r\n` +
        'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"label":',
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const code = await slow.stop();
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await response;
  });
});
