import { readFileSync, rmSync } from 'node:fs';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import { InProcessBroker, InProcessEventStream } from '@wagw/messaging';
import type { ApiConfig } from '../config/api-config.js';
import { MetricsService } from '../ops/metrics.service.js';
import { EventHub } from './event-hub.service.js';
import { type ClientFilter, SseClient } from './sse-client.js';
import { OPENING } from './sse-format.js';
import type { StreamCredentials } from './stream-credentials.js';

/**
 * The hub over the in-process stream, with real HTTP connections as its clients. They connect
 * over a Unix socket: what the kernel holds for a reader that stopped is then the sender's
 * socket buffer (`net.core.wmem_default`), fixed, where loopback TCP grows its buffers up to
 * `tcp_rmem` + `tcp_wmem` (36 MB on this machine) and a slow-consumer test cannot know how much
 * it must send.
 */
describe('EventHub', () => {
  const socketPath = join(tmpdir(), `event-hub-spec-${process.pid}.sock`);
  let broker: InProcessBroker;
  let stream: InProcessEventStream;
  let hub: EventHub;
  let metrics: MetricsService;
  /** Credentials a test has revoked. */
  const revoked = new Set<string>();
  const credentials = {
    stillValid: (c: string) => Promise.resolve(!revoked.has(c)),
  } as unknown as StreamCredentials;
  let server: Server;
  let n = 0;
  const pending: { filter: ClientFilter; lastEventId: number | null; limit: number }[] = [];

  // Its own small factory: an app's spec may not import the repository's test support.
  const S1 = '01J9ZX8K2QHV0M3T6R7P4N5W81';
  const S2 = '01J9ZX8K2QHV0M3T6R7P4N5W82';
  /** Ids of the events made, in order: `made[k - 1]` is the k-th. */
  const made: string[] = [];
  const event = (organizationId: string, sessionId = S1, reason: string | null = null) => {
    n += 1;
    const state = { status: 'working', gatewayId: 'gw', reason } as const;
    return {
      id: made[made.push(newId()) - 1]!,
      type: 'session.status',
      organizationId,
      sessionId,
      occurredAt: n,
      data: state,
      fence: { gatewayId: 'gw', epoch: 1, seq: n },
      state: {
        ...state,
        phoneNumber: null,
        waJid: null,
        waLid: null,
        lastConnectedAt: null,
        qr: 'internal-state-qr',
        qrExpiresAt: null,
      },
    } satisfies AnyGatewayEvent;
  };
  const publish = (e: AnyGatewayEvent): number => broker.append(e.id, JSON.stringify(e))!;

  async function startHub(replay = 100, heartbeatMs = 60_000): Promise<void> {
    hub = new EventHub(
      {
        SSE_REPLAY_BUFFER_EVENTS: replay,
        SSE_HEARTBEAT_MS: heartbeatMs,
        SSE_CLIENT_BUFFER_BYTES: 16_384,
      } as ApiConfig,
      stream,
      metrics,
      credentials,
    );
    await hub.onApplicationBootstrap();
  }

  /** Connects a client; resolves with its response (paused when `paused`). */
  function connect(
    filter: Partial<ClientFilter> & { organizationId: string },
    lastEventId: number | null = null,
    limit = 16_384,
  ): Promise<{ res: IncomingMessage; text: () => string; received: () => number }> {
    pending.push({ filter: { sessionId: null, types: null, ...filter }, lastEventId, limit });
    return new Promise((resolve) => {
      // A connection of its own (no pooled keep-alive socket of an earlier test).
      get({ socketPath, path: '/', agent: false }, (res) => {
        let text = '';
        // Events received so far, counted as they arrive ("\nid: " never fits in 4 characters).
        let received = 0;
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          received += (text.slice(-4) + c).split('\nid: ').length - 1;
          text += c;
        });
        resolve({ res, text: () => text, received: () => received });
      });
    });
  }

  const ids = (text: string): string[] =>
    [...text.matchAll(/^data: (\{.*\})$/gm)].map((m) => (JSON.parse(m[1]!) as { id: string }).id);
  const settle = () => new Promise((r) => setTimeout(r, 50));
  async function waitUntil(probe: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeEach(async () => {
    broker = new InProcessBroker();
    stream = new InProcessEventStream(broker);
    metrics = new MetricsService();
    server = createServer((_req, res) => {
      const { filter, lastEventId, limit } = pending.shift()!;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(OPENING);
      const client = new SseClient(
        filter,
        `Bearer ${filter.organizationId}`,
        res,
        limit,
        (c, reason) => hub.detach(c, reason),
      );
      void hub.attach(client, lastEventId);
    });
    rmSync(socketPath, { force: true });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });

  afterEach(async () => {
    hub.beforeApplicationShutdown();
    await hub.onApplicationShutdown();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("fans out live events to their organization's clients only, without fence or state", async () => {
    await startHub();
    const a = await connect({ organizationId: 'A' });
    const b = await connect({ organizationId: 'B' });
    const s2 = await connect({ organizationId: 'A', sessionId: S2 });
    await settle();
    publish(event('A'));
    publish(event('B'));
    publish(event('A', S2));
    // However busy the machine (a fixed pause here once ended before the fan-out did), then a
    // pause for anything that should not come.
    await waitUntil(
      () => ids(a.text()).length >= 2 && ids(b.text()).length >= 1 && ids(s2.text()).length >= 1,
    );
    await settle();
    const [e1, e2, e3] = made.slice(-3);
    expect(ids(a.text())).toEqual([e1, e3]);
    expect(ids(b.text())).toEqual([e2]);
    expect(ids(s2.text())).toEqual([e3]);
    expect(a.text()).not.toContain('internal-state-qr');
    expect(a.text()).toMatch(/^retry: 1000\n\nid: \d+\ndata: /);
  });

  it('resumes after a position from the ring, and from the stream when older than the ring', async () => {
    for (let i = 0; i < 30; i++) publish(event('A')); // before the hub: only in the stream
    await startHub(100);
    for (let i = 0; i < 30; i++) publish(event('A')); // in the ring too
    await settle();
    const fromRing = await connect({ organizationId: 'A' }, 40);
    const fromStream = await connect({ organizationId: 'A' }, 10);
    await settle();
    publish(event('A'));
    await waitUntil(() => ids(fromRing.text()).length >= 21 && ids(fromStream.text()).length >= 51);
    await settle();
    expect(ids(fromRing.text())).toEqual(made.slice(-21));
    expect(ids(fromStream.text())).toEqual(made.slice(-51));
  });

  it('tells a resuming client to come back when the stream cannot be read', async () => {
    for (let i = 0; i < 10; i++) publish(event('A'));
    await startHub();
    stream.bounds = () => Promise.reject(new Error('NATS is down'));
    const client = await connect({ organizationId: 'A' }, 3);
    await waitUntil(() => client.res.complete);
    expect(client.text()).toMatch(/event: disconnect\ndata: \{"reason":"unavailable"/);
  });

  it('sends heartbeats, and ends the streams whose credential was revoked', async () => {
    await startHub(100, 50);
    const kept = await connect({ organizationId: 'A' });
    const lost = await connect({ organizationId: 'B' });
    const ended = new Promise((r) => lost.res.on('end', r));
    await waitUntil(() => kept.text().includes(': keep-alive'));
    revoked.add('Bearer B');
    await ended;
    expect(lost.text().trimEnd().split('\n\n').at(-1)).toMatch(
      /^event: disconnect\ndata: \{"reason":"credentials_revoked"/,
    );
    publish(event('A'));
    await waitUntil(() => ids(kept.text()).length === 1);
    expect((await metrics.sseCutOff.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'credentials_revoked' }, value: 1 }),
    ]);
  });

  it('cuts off a client that stops reading, with a final event; the others carry on', async () => {
    await startHub();
    const slow = await connect({ organizationId: 'A' });
    const fast = await connect({ organizationId: 'A' });
    slow.res.pause();
    await settle();
    // Four times what the kernel holds for the paused reader (its 16 KB allowance is far less).
    const kernelHolds = Number(readFileSync('/proc/sys/net/core/wmem_default', 'utf8'));
    const big = 'x'.repeat(4_000);
    const count = Math.max(500, Math.ceil((4 * kernelHolds) / big.length));
    for (let i = 0; i < count; i++) {
      publish(event('A', S1, big));
      // The fast client reads on this same thread: let it catch up, however busy the machine.
      if (i % 20 === 19) await waitUntil(() => fast.received() === i + 1);
    }
    await waitUntil(async () => (await metrics.sseCutOff.get()).values.length > 0);
    const cut = await metrics.sseCutOff.get();
    expect(cut.values).toEqual([
      expect.objectContaining({ labels: { reason: 'slow_consumer' }, value: 1 }),
    ]);
    const ended = new Promise((r) => slow.res.on('end', r));
    slow.res.resume();
    await ended;
    expect(slow.text().trimEnd().split('\n\n').at(-1)).toMatch(
      /^event: disconnect\ndata: \{"reason":"slow_consumer"/,
    );
    await waitUntil(() => ids(fast.text()).length === count);
    expect(ids(fast.text())).toHaveLength(count);
  });
});
