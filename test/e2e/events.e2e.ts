import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { subjects } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import { ApiCluster } from '../support/api-cluster.js';
import { call, cliCreateApiKey } from '../support/api-process.js';
import { NATS_URL } from '../support/fleet.js';
import { GatewayEventSource } from '../support/gateway-event-source.js';
import { runToCompletion, waitFor } from '../support/processes.js';
import { type ReceivedEvent, SseRecorder } from '../support/sse-recorder.js';

/**
 * GET /api/v1/events against real API processes on Postgres and NATS, with events published
 * as a gateway publishes them, read by a real SSE client (the `eventsource` package).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every event once, in stream order: positions strictly increasing, ids as published. */
function expectExactly(received: ReceivedEvent[], publishedIds: string[]): void {
  const positions = received.map((e) => e.position);
  expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
  expect(received.map((e) => e.event.id)).toEqual(publishedIds);
}

describe('event stream (SSE) on two API replicas over NATS', () => {
  const cluster = new ApiCluster({ SSE_CLIENT_BUFFER_BYTES: '65536', SSE_HEARTBEAT_MS: '1000' });
  let source: GatewayEventSource;
  let keyA: string;
  let keyB: string;
  const orgA = `org_sse_a_${newId().toLowerCase()}`;
  const orgB = `org_sse_b_${newId().toLowerCase()}`;
  const recorders: SseRecorder[] = [];
  const recorder = (...args: ConstructorParameters<typeof SseRecorder>): SseRecorder => {
    const r = new SseRecorder(...args);
    recorders.push(r);
    return r;
  };
  const url = (i: number, query = ''): string =>
    `${cluster.apis[i]!.baseUrl}/api/v1/events${query}`;

  /** Publishes `count` events at about `perSecond`, alternating organizations; returns A's ids. */
  async function publish(count: number, perSecond: number, sessionA: string, sessionB: string) {
    const idsA: string[] = [];
    const idsB: string[] = [];
    for (let i = 0; i < count; i++) {
      const forA = i % 3 !== 2;
      const event = source.publish(source.event(forA ? orgA : orgB, forA ? sessionA : sessionB));
      (forA ? idsA : idsB).push(event.id);
      if (i % 10 === 9) await sleep((10 * 1000) / perSecond);
    }
    await source.flush();
    return { idsA, idsB };
  }

  beforeAll(async () => {
    await cluster.start(2);
    source = new GatewayEventSource(cluster.prefix);
    [keyA, keyB] = await Promise.all([cluster.apiKey(orgA), cluster.apiKey(orgB, 'send')]);
  });

  afterAll(async () => {
    for (const r of recorders) r.close();
    await source?.close();
    await cluster.stop();
  });

  it("cut off mid-stream and resumed on the other replica with Last-Event-ID: every event once, in order, never another organization's", async () => {
    const sessionA = newId();
    const sessionB = newId();
    const first = recorder(url(0), keyA);
    const onlyB = recorder(url(1), keyB);
    await Promise.all([first.waitForOpen(), onlyB.waitForOpen()]);

    const publishing = publish(300, 1_000, sessionA, sessionB);
    await first.waitForEvents(50);
    first.close(); // cut mid-stream, while events keep coming
    const resumeAfter = first.lastPosition!;
    const second = recorder(url(1), keyA, { lastEventId: String(resumeAfter) });
    const { idsA, idsB } = await publishing;

    await second.waitForEvents(idsA.length - first.events.length);
    await onlyB.waitForEvents(idsB.length);
    await sleep(300); // nothing more may come
    expect(second.events[0]!.position).toBeGreaterThan(resumeAfter);
    expectExactly([...first.events, ...second.events], idsA);
    expectExactly(onlyB.events, idsB);
    // The public shape only: the fence and the state snapshot stay inside the API.
    const one = second.events[0]!.event;
    expect(Object.keys(one).sort()).toEqual(
      ['data', 'id', 'occurredAt', 'organizationId', 'sessionId', 'type'].sort(),
    );
    expect(one).toMatchObject({
      organizationId: orgA,
      sessionId: sessionA,
      type: 'session.status',
    });
    expect(JSON.stringify([...first.events, ...second.events, ...onlyB.events])).not.toMatch(
      /internal-state-qr|fence|"state"/,
    );
    expect(first.controls).toEqual([]);
    expect(second.controls).toEqual([]);
  });

  it('across API restarts (SIGTERM, then SIGKILL): the client reconnects by itself and misses nothing published meanwhile', async () => {
    const sessionA = newId();
    const client = recorder(url(0), keyA);
    await client.waitForOpen();
    const ids: string[] = [];
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) ids.push(source.publish(source.event(orgA, sessionA)).id);
      await source.flush();
    };

    await burst(40);
    await client.waitForEvents(40);
    const stopping = cluster.apis[0]!.process.stop('SIGTERM');
    await burst(30); // published while the replica shuts down and is down
    await stopping;
    await cluster.restart(0); // same port: the client's own reconnection finds it
    await burst(30);
    await client.waitForEvents(100);
    expect(client.controls.map((c) => [c.type, c.data.reason])).toEqual([
      ['disconnect', 'shutdown'],
    ]);

    await cluster.restart(0, 'SIGKILL'); // a crash: the connection just drops
    await burst(30);
    await client.waitForEvents(130, 30_000);
    await sleep(300);
    expectExactly(client.events, ids);
    expect(client.opens).toBeGreaterThanOrEqual(3);
  });

  it('filters by session and by type; the organization is always the caller’s', async () => {
    const s1 = newId();
    const s2 = newId();
    const created = await call(cluster.apis[0]!.baseUrl, 'POST', '/api/v1/sessions', {
      token: keyA,
      body: {},
    });
    const own = created.body.id as string;
    const bySession = recorder(url(0, `?sessionId=${own}`), keyA);
    const byType = recorder(url(1, '?types=auth.qr,webhook.disabled'), keyA);
    const everything = recorder(url(1, '?types=session.status'), keyA);
    await Promise.all([bySession.waitForOpen(), byType.waitForOpen(), everything.waitForOpen()]);
    const mine = source.publish(source.event(orgA, own));
    source.publish(source.event(orgA, s1));
    source.publish(source.event(orgB, own)); // another organization, same session id
    source.publish(source.event(orgA, s2));
    await source.flush();
    await everything.waitForEvents(3);
    await sleep(300);
    expect(bySession.events.map((e) => e.event.id)).toEqual([mine.id]);
    expect(byType.events).toEqual([]);
    expect(everything.events.every((e) => e.event.organizationId === orgA)).toBe(true);
  });

  it('a position older than the retention, or unknown, gets a resync event first, then live events', async () => {
    const session = newId();
    const client = recorder(url(0), keyA);
    await client.waitForOpen();
    for (let i = 0; i < 5; i++) source.publish(source.event(orgA, session));
    await source.flush();
    await client.waitForEvents(5);
    client.close();
    const oldest = client.events[0]!.position;
    // Retention drops everything before the last of those five.
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(subjects(cluster.prefix).eventsStream, { seq: oldest + 4 });
    await nc.close();
    // A replica keeps recent events in memory (and would still serve them): start one afresh.
    await cluster.restart(1);

    const expired = recorder(url(1), keyA, { lastEventId: String(oldest) });
    const unknown = recorder(url(0, `?lastEventId=${oldest + 1_000_000}`), keyA);
    await Promise.all([expired.waitForOpen(), unknown.waitForOpen()]);
    await waitFor('resync events', () =>
      Promise.resolve(expired.controls.length > 0 && unknown.controls.length > 0),
    );
    const next = source.publish(source.event(orgA, session));
    await source.flush();
    await expired.waitForEvents(1);
    await unknown.waitForEvents(1);
    expect(expired.controls[0]).toMatchObject({
      type: 'resync',
      data: { reason: 'position_expired', lastEventId: String(oldest) },
    });
    expect(unknown.controls[0]).toMatchObject({
      type: 'resync',
      data: { reason: 'position_unknown' },
    });
    // Then the stream goes on with what comes next.
    expect(expired.events.map((e) => e.event.id)).toEqual([next.id]);
    expect(unknown.events.map((e) => e.event.id)).toEqual([next.id]);
  });

  it('a stream opened with an API key that is then revoked ends at the next heartbeat', async () => {
    const key = await cliCreateApiKey({ DATABASE_URL: cluster.db.url }, orgA, 'send');
    const client = recorder(url(1), key.secret);
    await client.waitForOpen();
    await runToCompletion('apps/api/dist/cli.js', { DATABASE_URL: cluster.db.url }, [
      'api-keys',
      'revoke',
      key.id,
    ]);
    await waitFor('stream ended', () => Promise.resolve(client.controls.length > 0), 10_000);
    expect(client.controls[0]).toMatchObject({
      type: 'disconnect',
      data: { reason: 'credentials_revoked' },
    });
    // Its reconnection is refused: a 401 ends an EventSource for good.
    await waitFor('closed', () => Promise.resolve(client.readyState === 2), 10_000);
  });

  it('a client that stops reading is cut off with a final event saying why; the others get everything', async () => {
    const session = newId();
    const fast = recorder(url(0), keyA);
    await fast.waitForOpen();
    // A raw HTTP client that reads the headers and then nothing.
    let text = '';
    const ended = new Promise<void>((resolve, reject) => {
      const req = request(url(0), { headers: { authorization: `Bearer ${keyA}` } }, (res) => {
        expect(res.statusCode).toBe(200);
        res.pause();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', resolve);
        slow = res;
      });
      req.on('error', reject);
      req.end();
    });
    let slow: IncomingMessage | null = null;
    await waitFor('slow client connected', () => Promise.resolve(slow !== null));

    // What loopback TCP holds for a reader that stopped is not fixed: its buffers grow up to
    // tcp_rmem + tcp_wmem (36 MB on this machine). So publish until the cut-off comes, in rounds
    // the fast client must keep up with however busy the machine is; the API fans a round out to
    // both clients at once, so when the fast one has it, the slow one has been judged on it.
    const reason = 'x'.repeat(4_000); // the largest a reason may be
    const ids: string[] = [];
    const metrics = async () => (await fetch(`${cluster.apis[0]!.baseUrl}/metrics`)).text();
    const cutOff = async () =>
      /sse_clients_cut_off_total\{reason="slow_consumer"\} [1-9]/.test(await metrics());
    while (!(await cutOff())) {
      if (ids.length * reason.length > 256e6) throw new Error('not cut off after 256 MB');
      for (let i = 0; i < 250; i++)
        ids.push(source.publish(source.event(orgA, session, { reason })).id);
      await source.flush(60_000);
      await fast.waitForEvents(ids.length, 60_000);
    }
    slow!.resume(); // read what was sent before the cut
    await ended;
    const tail = text.trimEnd().split('\n\n').at(-1)!;
    expect(tail).toMatch(/^event: disconnect\ndata: \{"reason":"slow_consumer"/);
    expectExactly(fast.events, ids);
  }, 180_000);
});
