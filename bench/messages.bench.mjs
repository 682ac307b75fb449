// Messages benchmark: sends through the built processes (wa-sim, API, one gateway) on the
// machine's real Postgres and NATS/JetStream, and reads of stored pages at a large stored count.
//
//   npm run build && node bench/messages.bench.mjs
//
// Prints one table: sends/s across BENCH_SESSIONS working sessions (BENCH_SENDS requests,
// BENCH_CONCURRENCY in flight) with p50/p99 latency; inbound ingest: BENCH_INGEST
// `message.received` events published exactly as a gateway publishes them (its JetStream
// publisher), timed until every one is a stored row; page p50/p99 at BENCH_STORED stored
// messages (first pages and deep pages through the cursor); bytes stored per message. The
// gateway runs the real Baileys client on the sandbox (wa-sim).
//
// Options (env): BENCH_SESSIONS=20 BENCH_SENDS=2000 BENCH_CONCURRENCY=32 BENCH_INGEST=50000
//   BENCH_STORED=200000 BENCH_PAGES=300 TEST_DATABASE_URL TEST_NATS_URL
//   BENCH_RECIPIENTS=1000: send i goes from session i % SESSIONS to recipient i % RECIPIENTS.
//   With few recipients (≤ 2,000 session/recipient pairs) every pair is sent to once before the
//   timed run, so it measures sends on established Signal sessions; otherwise most timed sends
//   are first contacts (usync, pre-key bundle, pkmsg).
// Every process it starts is killed at the end; its database is dropped and its JetStream
// streams deleted.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { newId } from '@wagw/domain';
import {
  ensureEventsStream,
  JetStreamEventPublisher,
  LazyNatsConnection,
  silentMessagingLogger,
} from '@wagw/messaging';
import pg from 'pg';
import {
  cliCreateApiKey,
  componentCpu,
  componentCpuDelta,
  freePort,
  killAllChildren,
  runNode,
  waitFor,
} from './lib/procs.mjs';
import { adminSql, apiCall, envInt } from './lib/services.mjs';
import { percentile, pMap, round } from './lib/stats.mjs';

const SESSIONS = Math.max(1, envInt('BENCH_SESSIONS', 20));
const SENDS = envInt('BENCH_SENDS', 2000);
const CONCURRENCY = Math.max(1, envInt('BENCH_CONCURRENCY', 32));
const INGEST = envInt('BENCH_INGEST', 50_000);
const STORED = envInt('BENCH_STORED', 200_000);
const PAGES = Math.max(1, envInt('BENCH_PAGES', 300));
const RECIPIENTS = Math.max(1, envInt('BENCH_RECIPIENTS', 1000));
const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));
/** Sends after which every (session, recipient) pair has recurred. */
const PAIRS = (SESSIONS * RECIPIENTS) / gcd(SESSIONS, RECIPIENTS);
const ESTABLISHED = PAIRS <= 2000;
const recipientOf = (i) => `65912${String(i % RECIPIENTS).padStart(5, '0')}`;
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
for (const url of [ADMIN_URL, NATS_URL]) {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname))
    throw new Error(`traffic stays on 127.0.0.1: refusing ${url}`);
}

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 23)}]`, ...a);
const ctx = {
  prefix: `mb${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
  dbName: `wagw_bench_messages_${Date.now()}`,
  dbCreated: false,
};

async function sim(method, path, body) {
  const res = await fetch(`${ctx.simUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function setUp() {
  await adminSql(ADMIN_URL, `CREATE DATABASE "${ctx.dbName}"`);
  ctx.dbCreated = true;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${ctx.dbName}`;
  ctx.dbUrl = dbUrl.toString();
  execFileSync(process.execPath, ['apps/api/dist/migrate.js'], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: ctx.dbUrl, LOG_LEVEL: 'warn' },
  });
  const simPort = await freePort();
  ctx.procs = {};
  ctx.procs.sim = runNode('wa-sim', 'apps/wa-sim/dist/main.js', { WA_SIM_PORT: String(simPort) });
  ctx.simUrl = `http://127.0.0.1:${simPort}`;
  await waitFor('wa-sim', async () => (await fetch(`${ctx.simUrl}/sim/v1/healthz`)).ok);
  const common = { DATABASE_URL: ctx.dbUrl, NATS_URL, NATS_PREFIX: ctx.prefix };
  const apiPort = await freePort();
  ctx.procs.api = runNode('api', 'apps/api/dist/main.js', {
    ...common,
    PORT: String(apiPort),
    ORG_MAX_SESSIONS: '100000',
    ORG_MAX_PAIRING: '100000',
    LOG_LEVEL: 'error',
  });
  ctx.apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitFor('API', async () => (await fetch(`${ctx.apiUrl}/readyz`)).ok, 60_000);
  const opsPort = await freePort();
  ctx.procs.gateway = runNode('gateway', 'apps/gateway/dist/main.js', {
    ...common,
    GATEWAY_ID: 'gw-bench',
    GATEWAY_OPS_PORT: String(opsPort),
    AUTH_STATE_KEY: randomBytes(32).toString('base64'),
    WA_NETWORK: 'sandbox',
    WA_SIM_URL: `http://127.0.0.1:${simPort}`,
    LOG_LEVEL: 'error',
  });
  await waitFor(
    'gateway',
    async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).ok,
    60_000,
  );
  ctx.key = cliCreateApiKey({ DATABASE_URL: ctx.dbUrl }, 'org_bench_messages');
}

const api = (method, path, body) => apiCall(ctx.apiUrl, ctx.key, method, path, body);

async function pair(i) {
  const phoneNumber = `62812${String(i).padStart(7, '0')}`;
  const created = await api('POST', '/api/v1/sessions', { start: true });
  const id = created.body.id;
  await waitFor(
    `${phoneNumber} scanned`,
    async () => {
      const qr = await api('GET', `/api/v1/sessions/${id}/qr`);
      if (qr.status !== 200) return false;
      return (await sim('POST', '/sim/v1/qr:scan', { qr: qr.body.qr, phoneNumber })).status === 200;
    },
    60_000,
    100,
  );
  await waitFor(
    `${phoneNumber} working`,
    async () => {
      return (await api('GET', `/api/v1/sessions/${id}`)).body.status === 'working';
    },
    60_000,
    50,
  );
  // Rates out of the way: this measures the send path, not the limiter's refusals.
  await api('PATCH', `/api/v1/sessions/${id}`, { ratePerMin: 1000, ratePerHour: 60000 });
  return id;
}

/** CPU seconds of each component so far: the children, this database's Postgres backends, NATS. */
const cpuSnapshot = () =>
  componentCpu(
    { gateway: ctx.procs.gateway.pid, api: ctx.procs.api.pid, sim: ctx.procs.sim.pid },
    ctx.dbName,
  );

/** Milliseconds of CPU per unit of work between two snapshots, by component and in all. */
function cpuPer(before, after, units) {
  const d = componentCpuDelta(before, after);
  const seconds = { ...d.procs, postgres: d.postgres, nats: d.nats, bench: d.bench };
  const ms = Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, (v * 1000) / units]));
  return { ...ms, total: Object.values(ms).reduce((a, b) => a + b, 0) };
}

async function benchSends(sessions) {
  // Warm-up: one send per session, or per (session, recipient) pair of the timed run.
  if (ESTABLISHED)
    await pMap(
      Array.from({ length: PAIRS }, (_, i) => i),
      8,
      (i) =>
        api('POST', `/api/v1/sessions/${sessions[i % sessions.length]}/messages`, {
          to: recipientOf(i),
          text: 'warm-up',
        }),
    );
  else
    await pMap(sessions, 8, (id) =>
      api('POST', `/api/v1/sessions/${id}/messages`, { to: '6591230000', text: 'warm-up' }),
    );
  const latencies = [];
  let failures = 0;
  const cpuBefore = cpuSnapshot();
  const started = performance.now();
  await pMap(
    Array.from({ length: SENDS }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const t0 = performance.now();
      const res = await api('POST', `/api/v1/sessions/${sessions[i % sessions.length]}/messages`, {
        to: recipientOf(i),
        text: `bench message ${i}`,
      });
      latencies.push(performance.now() - t0);
      if (res.status !== 201) failures += 1;
    },
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    cpu: cpuPer(cpuBefore, cpuSnapshot(), SENDS),
    rate: SENDS / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures,
  };
}

/**
 * Inbound ingest, from the gateway's side of NATS to stored rows: INGEST `message.received`
 * events for one session, published by the gateway's own JetStream publisher (validated,
 * pipelined, deduplicated by id), folded and stored by the API. The Signal decryption before
 * it is the WhatsApp side's cost (bench:sim-messages).
 */
async function benchIngest(sessionId) {
  const c = new pg.Client({ connectionString: ctx.dbUrl });
  await c.connect();
  const connection = new LazyNatsConnection({ servers: NATS_URL, name: 'bench-ingest' });
  const publisher = new JetStreamEventPublisher({
    connection: () => connection.get(),
    prefix: ctx.prefix,
    ensureStream: (nc) => ensureEventsStream({ connection: nc, prefix: ctx.prefix }),
    logger: silentMessagingLogger,
  });
  const chat = '6598888888@s.whatsapp.net';
  try {
    const [{ organization_id: organizationId }] = (
      await c.query('SELECT organization_id FROM sessions WHERE id = $1', [sessionId])
    ).rows;
    const stored = async () =>
      Number(
        (
          await c.query(
            'SELECT count(*)::int AS n FROM messages WHERE session_id = $1 AND chat_jid = $2',
            [sessionId, chat],
          )
        ).rows[0].n,
      );
    const now = Date.now();
    const event = (i) => ({
      id: newId(),
      type: 'message.received',
      organizationId,
      sessionId,
      occurredAt: now + i,
      data: {
        id: `INGEST${i}`,
        chatJid: chat,
        senderJid: chat,
        fromMe: false,
        timestamp: now + i,
        type: 'text',
        text: `inbound message number ${i}`,
        media: null,
        replyTo: null,
        status: 'received',
        raw: { key: { id: `INGEST${i}`, remoteJid: chat } },
      },
      fence: { gatewayId: 'gw-bench-ingest', epoch: 1, seq: i + 1 },
      state: {
        status: 'working',
        gatewayId: 'gw-bench-ingest',
        reason: null,
        phoneNumber: '6281200000000',
        waJid: '6281200000000@s.whatsapp.net',
        waLid: null,
        qr: null,
        qrExpiresAt: null,
        lastConnectedAt: now,
      },
    });
    const t0 = performance.now();
    for (let i = 0; i < INGEST; i++) publisher.publish(event(i));
    await publisher.flush(300_000);
    const publishedMs = performance.now() - t0;
    await waitFor(
      'every ingested message stored',
      async () => (await stored()) >= INGEST,
      600_000,
      50,
    );
    const storedMs = performance.now() - t0;
    return {
      rate: INGEST / (storedMs / 1000),
      publishRate: INGEST / (publishedMs / 1000),
      storedMs,
      rows: await stored(),
    };
  } finally {
    await publisher.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await c.end();
  }
}

async function benchPages(sessionId) {
  const c = new pg.Client({ connectionString: ctx.dbUrl });
  await c.connect();
  const chat = '6599999999@s.whatsapp.net';
  try {
    for (let done = 0; done < STORED; done += 100_000) {
      const n = Math.min(100_000, STORED - done);
      await c.query(
        `INSERT INTO messages (organization_id, session_id, chat_jid, id, from_me, sender_jid,
           timestamp, type, text, status, raw)
         SELECT 'org_bench_messages', $1, $2, 'BENCH' || ($3 + g), false, $2,
                1700000000000 + ($3 + g) * 1000, 'text', 'stored message number ' || ($3 + g),
                'received', jsonb_build_object('id', 'BENCH' || ($3 + g))
         FROM generate_series(1, $4) g`,
        [sessionId, chat, done, n],
      );
    }
    await c.query(
      `INSERT INTO chats (session_id, jid, organization_id, kind, last_timestamp)
       VALUES ($1, $2, 'org_bench_messages', 'chat', 0) ON CONFLICT DO NOTHING`,
      [sessionId, chat],
    );
    await c.query('ANALYZE messages');
    const [{ bytes, rows }] = (
      await c.query(
        `SELECT pg_total_relation_size('messages')::float8 AS bytes, count(*)::float8 AS rows FROM messages`,
      )
    ).rows;
    const path = `/api/v1/sessions/${sessionId}/chats/${chat}/messages`;
    const first = [];
    const deep = [];
    let cursor = '';
    for (let i = 0; i < PAGES; i++) {
      const t0 = performance.now();
      const res = await api('GET', `${path}?limit=50`);
      first.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`page: ${res.status}`);
      // Walk the cursor: deeper and deeper pages.
      const t1 = performance.now();
      const next = await api(
        'GET',
        `${path}?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      deep.push(performance.now() - t1);
      cursor = next.body.nextCursor || '';
    }
    return {
      bytesPerMessage: bytes / rows,
      rows,
      firstP50: percentile(first, 50),
      firstP99: percentile(first, 99),
      deepP50: percentile(deep, 50),
      deepP99: percentile(deep, 99),
    };
  } finally {
    await c.end();
  }
}

async function cleanup() {
  killAllChildren();
  try {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list())
      if (s.config.name.startsWith(ctx.prefix.toUpperCase()))
        await jsm.streams.delete(s.config.name);
    await nc.close();
  } catch (e) {
    log(`could not delete streams: ${e.message}`);
  }
  if (ctx.dbCreated)
    await adminSql(ADMIN_URL, `DROP DATABASE IF EXISTS "${ctx.dbName}" WITH (FORCE)`).catch((e) =>
      log(`could not drop ${ctx.dbName}: ${e.message}`),
    );
}

for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => void cleanup().then(() => process.exit(130)));
try {
  log('starting wa-sim, API, gateway');
  await setUp();
  log(`pairing ${SESSIONS} sessions`);
  const sessions = await pMap(
    Array.from({ length: SESSIONS }, (_, i) => i),
    8,
    (i) => pair(i),
  );
  log(`sending ${SENDS} messages, ${CONCURRENCY} in flight`);
  const sends = await benchSends(sessions);
  log(`ingesting ${INGEST} inbound messages`);
  const ingest = await benchIngest(sessions[0]);
  log(`storing ${STORED} messages, reading ${PAGES} pages`);
  const pages = await benchPages(sessions[0]);
  const ms = (v) => `${round(v, 1)} ms`;
  console.log(`
| metric                                                    | value |
| --------------------------------------------------------- | ----- |
| sends/s across ${SESSIONS} sessions to ${RECIPIENTS} recipients (${SENDS} sends, ${CONCURRENCY} in flight, ${ESTABLISHED ? 'Signal sessions established' : 'mostly first contacts'}) | ${round(sends.rate, 0)} (${sends.failures} not 201) |
| send latency p50 / p99                                     | ${ms(sends.p50)} / ${ms(sends.p99)} |
| CPU per send, all processes                                | ${ms(sends.cpu.total)}: ${['gateway', 'postgres', 'api', 'sim', 'nats', 'bench'].map((k) => `${k} ${round(sends.cpu[k], 1)}`).join(', ')} |
| inbound ingest: ${INGEST} gateway events → stored rows, msgs/s | ${round(ingest.rate, 0)} (published at ${round(ingest.publishRate, 0)}/s; ${ingest.rows} stored once) |
| first page (limit 50) p50 / p99 at ${pages.rows} stored    | ${ms(pages.firstP50)} / ${ms(pages.firstP99)} |
| cursor-walk page p50 / p99                                 | ${ms(pages.deepP50)} / ${ms(pages.deepP99)} |
| bytes stored per message (table + indexes, incl. raw)      | ${round(pages.bytesPerMessage, 0)} |

load average during the run: ${loadavg()
    .map((v) => round(v, 1))
    .join(' / ')}`);
} catch (error) {
  log(`failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
