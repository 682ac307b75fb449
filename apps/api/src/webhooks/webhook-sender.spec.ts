import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NetworkPolicy, parseCidrList } from './network-policy.js';
import { WebhookSender } from './webhook-sender.js';

describe('WebhookSender', () => {
  let server: Server;
  let base: string;
  const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/ok': (res) => res.writeHead(204).end(),
    '/unavailable': (res) => res.writeHead(503, { 'retry-after': '7' }).end('later'),
    '/redirect': (res) => res.writeHead(307, { location: '/ok' }).end(),
    '/slow': (res) => setTimeout(() => res.writeHead(200).end(), 2_000).unref(),
    '/chatty': (res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      pump();
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '', headers: req.headers, body });
        (routes[req.url ?? ''] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const loopbackAllowed = (timeoutMs = 1_000) =>
    new WebhookSender(new NetworkPolicy(parseCidrList('127.0.0.0/8,::1')), {
      timeoutMs,
      maxResponseBytes: 1024,
    });

  it('posts the body with its headers and reads the status', async () => {
    const sender = loopbackAllowed();
    const result = await sender.send(`${base}/ok`, { 'webhook-id': 'msg_1' }, '{"a":1}');
    sender.close();
    expect(result).toMatchObject({ statusCode: 204, error: null, retryAfterMs: null });
    const last = received.at(-1)!;
    expect(last.body).toBe('{"a":1}');
    expect(last.headers['webhook-id']).toBe('msg_1');
    expect(last.headers['content-type']).toBe('application/json');
  });

  it('reports Retry-After, does not follow redirects, gives up on a slow receiver', async () => {
    const sender = loopbackAllowed(300);
    expect(await sender.send(`${base}/unavailable`, {}, '{}')).toMatchObject({
      statusCode: 503,
      retryAfterMs: 7_000,
      error: 'HTTP 503',
    });
    const before = received.length;
    expect(await sender.send(`${base}/redirect`, {}, '{}')).toMatchObject({ statusCode: 307 });
    expect(received.length).toBe(before + 1); // /ok never requested
    const slow = await sender.send(`${base}/slow`, {}, '{}');
    expect(slow.statusCode).toBeNull();
    expect(slow.error).toContain('timed out');
    expect(slow.latencyMs).toBeLessThan(1_500);
    sender.close();
  });

  it('stops reading a response past the size cap', async () => {
    const sender = loopbackAllowed(5_000);
    const result = await sender.send(`${base}/chatty`, {}, '{}');
    sender.close();
    expect(result).toMatchObject({ statusCode: 200, error: null });
    expect(result.latencyMs).toBeLessThan(2_000);
  });

  it('refuses loopback without the allow-list: by IP literal and by a name resolving to it', async () => {
    const strict = new WebhookSender(new NetworkPolicy(), {
      timeoutMs: 1_000,
      maxResponseBytes: 1,
    });
    const before = received.length;
    const port = (server.address() as AddressInfo).port;
    for (const url of [
      `${base}/ok`,
      `http://localhost:${port}/ok`,
      `http://[::ffff:127.0.0.1]:${port}/ok`,
      `http://2130706433:${port}/ok`,
    ]) {
      const result = await strict.send(url, {}, '{}');
      expect([url, result.statusCode, result.error]).toEqual([
        url,
        null,
        expect.stringContaining('refused'),
      ]);
    }
    strict.close();
    expect(received.length).toBe(before);
  });

  it('checks the connected address too: a private address let through by DNS is still refused', async () => {
    // A policy whose lookup lets everything through stands for a resolver that lies (rebinding).
    const policy = new NetworkPolicy();
    const lying = Object.assign(Object.create(NetworkPolicy.prototype) as NetworkPolicy, policy, {
      lookup: ((_host: string, options: { all?: boolean }, cb: (...a: unknown[]) => void) =>
        options.all
          ? cb(null, [{ address: '127.0.0.1', family: 4 }])
          : cb(null, '127.0.0.1', 4)) as NetworkPolicy['lookup'],
    });
    const sender = new WebhookSender(lying, { timeoutMs: 1_000, maxResponseBytes: 1 });
    const before = received.length;
    const result = await sender.send(
      `http://receiver.example:${(server.address() as AddressInfo).port}/ok`,
      {},
      '{}',
    );
    sender.close();
    expect(result.error).toContain('refused address');
    expect(received.length).toBe(before);
  });
});
