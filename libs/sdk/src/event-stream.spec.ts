import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { type GatewayEvent, openEventStream } from './event-stream.js';

/** A tiny SSE server on a real socket: what each connection asked for, and a way to answer it. */
function sseServer(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const requests: { url: string; authorization?: string; lastEventId?: string }[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({
      url: req.url ?? '',
      authorization: req.headers.authorization,
      lastEventId: req.headers['last-event-id'] as string | undefined,
    });
    handle(req, res, requests.length);
  });
  return {
    requests,
    server,
    listen: () =>
      new Promise<string>((done) =>
        server.listen(0, '127.0.0.1', () =>
          done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      ),
  };
}

const event = (id: string, type = 'session.status'): GatewayEvent => ({
  id,
  type,
  organizationId: 'org_a',
  sessionId: 'S1',
  occurredAt: 1,
  data: { status: 'working' },
});

const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('openEventStream', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('sends the token as a header, and resumes after a cut with Last-Event-ID', async () => {
    const sse = sseServer((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 20\n\n');
      if (n === 1) {
        res.write(`id: 1\ndata: ${JSON.stringify(event('E1'))}\n\n`);
        res.write(`id: 2\ndata: ${JSON.stringify(event('E2'))}\n\n`);
        setTimeout(() => res.destroy(), 50); // the connection drops mid-stream
      } else {
        res.write(`id: 3\ndata: ${JSON.stringify(event('E3', 'auth.qr'))}\n\n`);
      }
    });
    const baseUrl = await sse.listen();
    cleanups.push(() => sse.server.close());
    const received: [string, string][] = [];
    const states: boolean[] = [];
    const stream = openEventStream({
      baseUrl,
      token: 'wagw_key',
      sessionId: 'S1',
      types: ['session.status', 'auth.qr'],
      onEvent: (e, position) => received.push([e.id, position]),
      onConnectionChange: (open) => states.push(open),
    });
    cleanups.push(() => stream.close());
    await until(() => received.length === 3);
    expect(received).toEqual([
      ['E1', '1'],
      ['E2', '2'],
      ['E3', '3'],
    ]);
    expect(stream.position).toBe('3');
    expect(sse.requests[0]).toEqual({
      url: '/api/v1/events?sessionId=S1&types=session.status%2Cauth.qr',
      authorization: 'Bearer wagw_key',
      lastEventId: undefined,
    });
    expect(sse.requests[1]?.lastEventId).toBe('2');
    expect(states.slice(0, 3)).toEqual([true, false, true]);
  });

  it('stops for good on a refusal that retrying cannot cure (401), with its body', async () => {
    const sse = sseServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'no', details: {} } }));
    });
    const baseUrl = await sse.listen();
    cleanups.push(() => sse.server.close());
    const fatal: [number, unknown][] = [];
    const stream = openEventStream({
      baseUrl,
      token: 'wagw_revoked',
      onEvent: () => undefined,
      onFatal: (status, body) => fatal.push([status, body]),
    });
    cleanups.push(() => stream.close());
    await until(() => fatal.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(fatal).toEqual([[401, { error: { code: 'unauthorized', message: 'no', details: {} } }]]);
    expect(sse.requests).toHaveLength(1);
  });

  it('hands the named notices to their callbacks', async () => {
    const sse = sseServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: resync\nid: 9\ndata: {"reason":"position_expired","message":"m"}\n\n');
      res.end('event: disconnect\ndata: {"reason":"shutdown","message":"bye"}\n\n');
    });
    const baseUrl = await sse.listen();
    cleanups.push(() => sse.server.close());
    const notices: string[] = [];
    const stream = openEventStream({
      baseUrl,
      token: 't',
      lastEventId: '4',
      onEvent: () => undefined,
      onResync: (n) => notices.push(`resync:${n.reason}`),
      onDisconnect: (n) => notices.push(`disconnect:${n.reason}`),
    });
    cleanups.push(() => stream.close());
    await until(() => notices.length >= 2);
    stream.close();
    expect(notices.slice(0, 2)).toEqual(['resync:position_expired', 'disconnect:shutdown']);
    expect(sse.requests[0]?.lastEventId).toBe('4');
    expect(stream.position).toBe('9');
  });
});
