// Events benchmark: events out of the API, with the built API process on the machine's real
// Postgres and NATS/JetStream, and events published by the gateways' own JetStream publisher.
//
//   npm run build && npm run bench:events
//
// Measures (one table at the end):
//   1. API memory with BENCH_IDLE_CLIENTS (1,000) idle SSE clients: RSS before and after;
//   2. gateway → SSE client latency (p50 / p99) at BENCH_RATE (1,000) events/s with
//      BENCH_CLIENTS (100) clients of the organization, each receiving every event;
//   3. webhook deliveries: throughput of a burst (BENCH_BURST events × BENCH_WEBHOOKS webhooks)
//      and event → receiver latency (p50 / p99) at a steady BENCH_WEBHOOK_RATE events/s.
// Latency is publish time (in the event, sub-ms) → receive time, on the same machine's clock.
//
// Options (env): BENCH_ROUNDS=3 BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=3 BENCH_RATE=1000
//   BENCH_CLIENTS=100 BENCH_CLIENT_PROCS=2 BENCH_IDLE_CLIENTS=1000 BENCH_WEBHOOKS=10
//   BENCH_BURST=2000 BENCH_WEBHOOK_RATE=100 BENCH_PHASES=idle,sse,webhooks TEST_DATABASE_URL
//   TEST_NATS_URL
//
// Every process it starts is killed at the end (also on failure or Ctrl-C); its database is
// dropped and the JetStream streams of its NATS prefix are deleted.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { newId } from '@wagw/domain';
import {
  ensureEventsStream,
  JetStreamEventPublisher,
  LazyNatsConnection,
  silentMessagingLogger,
} from '@wagw/messaging';
import {
  cpuSeconds,
  freePort,
  killAllChildren,
  REPO_ROOT,
  rssMb,
  runNode,
  sleep,
  waitFor,
} from './lib/procs.mjs';
import pg from 'pg';
import { adminSql, apiCall, envInt } from './lib/services.mjs';
import { histogramDelta, median, parsePrometheus, percentile, round } from './lib/stats.mjs';

const int = envInt;

const ROUNDS = Math.max(1, int('BENCH_ROUNDS', 3));
const SECONDS = Math.max(1, int('BENCH_SECONDS', 10));
const WARMUP = int('BENCH_WARMUP_SECONDS', 3);
const RATE = Math.max(1, int('BENCH_RATE', 1000));
const CLIENTS = Math.max(1, int('BENCH_CLIENTS', 100));
const CLIENT_PROCS = Math.max(1, int('BENCH_CLIENT_PROCS', 2));
const IDLE_CLIENTS = int('BENCH_IDLE_CLIENTS', 1000);
const WEBHOOKS = Math.max(1, int('BENCH_WEBHOOKS', 10));
const BURST = Math.max(1, int('BENCH_BURST', 2000));
const WEBHOOK_RATE = Math.max(1, int('BENCH_WEBHOOK_RATE', 100));
const PHASES = new Set((process.env.BENCH_PHASES ?? 'idle,sse,webhooks').split(','));
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

for (const url of [ADMIN_URL, NATS_URL]) {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname))
    throw new Error(`traffic stays on 127.0.0.1: refusing ${url}`);
}

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 23)}]`, ...a);
const now = () => performance.timeOrigin + performance.now();
const ms = (v) => round(v, 1);

const ctx = {
  prefix: `eb${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
  dbName: `wagw_bench_events_${Date.now()}`,
  dbCreated: false,
  org: `org_bench_${Date.now().toString(36)}`,
  clientProcs: [],
  rows: [],
};

const admin = (sql) => adminSql(ADMIN_URL, sql);
const api = (method, path, body) => apiCall(ctx.apiUrl, ctx.apiKey, method, path, body);

/** Runs a built entry point with arguments to completion; resolves with its stdout. */
function runToEnd(script, env, args = []) {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, script), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code) =>
      code === 0 ? ok(out) : fail(new Error(`${script} exited ${code}: ${out}`)),
    );
  });
}

async function setup() {
  await admin(`CREATE DATABASE "${ctx.dbName}"`);
  ctx.dbCreated = true;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${ctx.dbName}`;
  ctx.dbUrl = url.toString();
  await runToEnd('apps/api/dist/migrate.js', { DATABASE_URL: ctx.dbUrl });
  const port = await freePort();
  ctx.apiUrl = `http://127.0.0.1:${port}`;
  ctx.api = runNode('api', 'apps/api/dist/main.js', {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: ctx.dbUrl,
    NATS_URL,
    NATS_PREFIX: ctx.prefix,
    LOG_LEVEL: 'warn',
    WEBHOOK_POLL_MS: process.env.WEBHOOK_POLL_MS ?? '1000',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
    WEBHOOK_MAX_PER_ORG: String(WEBHOOKS + 5),
    WEBHOOK_CONCURRENCY: process.env.WEBHOOK_CONCURRENCY ?? '64',
  });
  await waitFor('API ready', async () => {
    if (!ctx.api.alive) throw new Error(`API exited: ${ctx.api.output()}`);
    return (await fetch(`${ctx.apiUrl}/readyz`)).ok;
  });
  const out = await runToEnd('apps/api/dist/cli.js', { DATABASE_URL: ctx.dbUrl }, [
    ...['api-keys', 'create', '--org', ctx.org, '--name', 'bench', '--capabilities', 'manage,send'],
  ]);
  ctx.apiKey = JSON.parse(out.trim().split('\n').pop()).secret;

  ctx.nats = new LazyNatsConnection({ servers: NATS_URL, name: 'bench-gateway-events' });
  ctx.publisher = new JetStreamEventPublisher({
    connection: () => ctx.nats.get(),
    prefix: ctx.prefix,
    ensureStream: (nc) => ensureEventsStream({ connection: nc, prefix: ctx.prefix }),
    logger: silentMessagingLogger,
  });
}

let seq = 0;
/** A gateway event as a worker publishes it; `data.reason` carries the publish time (sub-ms). */
function publishEvent(sessionId) {
  seq += 1;
  const t = now();
  ctx.publisher.publish({
    id: newId(),
    type: 'session.status',
    organizationId: ctx.org,
    sessionId,
    occurredAt: Math.floor(t),
    data: { status: 'working', gatewayId: 'gw-bench', reason: `t=${t.toFixed(3)}` },
    fence: { gatewayId: 'gw-bench', epoch: 1, seq },
    state: {
      status: 'working',
      gatewayId: 'gw-bench',
      reason: null,
      phoneNumber: '6281234567890',
      waJid: '6281234567890@s.whatsapp.net',
      waLid: null,
      qr: null,
      qrExpiresAt: null,
      lastConnectedAt: Math.floor(t),
    },
  });
}

/** Publishes at `rate` events/s for `seconds` (5 ms ticks, catching up on a late tick). */
async function publishAt(rate, seconds, sessions) {
  const start = now();
  let sent = 0;
  const total = Math.round(rate * seconds);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate));
    for (; sent < due; sent++) publishEvent(sessions[sent % sessions.length]);
    await sleep(5);
  }
  await ctx.publisher.flush(30_000);
  return sent;
}

// --- SSE clients (child processes) ---------------------------------------------------------------

function startClientProc() {
  const child = fork(resolve(REPO_ROOT, 'bench/lib/sse-clients.mjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = [];
  child.on('message', (m) => pending.shift()?.(m));
  const ask = (msg) =>
    new Promise((ok, fail) => {
      pending.push((m) => (m.error ? fail(new Error(m.error)) : ok(m)));
      child.send(msg);
    });
  const proc = { child, ask, pid: child.pid };
  ctx.clientProcs.push(proc);
  return proc;
}

async function openClients(count, procs) {
  const per = Math.ceil(count / procs);
  const started = [];
  for (let i = 0; i < procs && i * per < count; i++) {
    const p = startClientProc();
    await p.ask({
      cmd: 'open',
      url: `${ctx.apiUrl}/api/v1/events`,
      token: ctx.apiKey,
      count: Math.min(per, count - i * per),
    });
    started.push(p);
  }
  return started;
}

async function closeClients(procs) {
  for (const p of procs) {
    p.child.send({ cmd: 'close' });
    await new Promise((r) => p.child.once('exit', r));
  }
  ctx.clientProcs = ctx.clientProcs.filter((p) => !procs.includes(p));
}

// --- phases ----------------------------------------------------------------------------------

async function idlePhase() {
  await sleep(2_000);
  const before = rssMb(ctx.api.pid);
  const procs = await openClients(IDLE_CLIENTS, CLIENT_PROCS);
  await sleep(5_000);
  const after = rssMb(ctx.api.pid);
  const metrics = await (await fetch(`${ctx.apiUrl}/metrics`)).text();
  const connected = Number(/^sse_clients (\d+)/m.exec(metrics)?.[1] ?? NaN);
  await closeClients(procs);
  log(`idle: ${connected} clients, RSS ${before} → ${after} MB`);
  ctx.rows.push(
    ['API RSS, no SSE client', `${before} MB`, '—'],
    [
      `API RSS, ${connected} idle SSE clients`,
      `${after} MB`,
      `+${round(((after - before) * 1024) / connected, 1)} KB per client`,
    ],
  );
}

async function ssePhase() {
  const sessions = Array.from({ length: 50 }, () => newId());
  const procs = await openClients(CLIENTS, CLIENT_PROCS);
  const rounds = [];
  for (let r = 1; r <= ROUNDS; r++) {
    await publishAt(RATE, WARMUP, sessions);
    await Promise.all(procs.map((p) => p.ask({ cmd: 'reset' })));
    const metrics0 = parsePrometheus(await (await fetch(`${ctx.apiUrl}/metrics`)).text());
    const cpu0 = cpuSeconds(ctx.api.pid);
    const t0 = now();
    const sent = await publishAt(RATE, SECONDS, sessions);
    await sleep(1_000); // the last events reach every client
    const cpu = (cpuSeconds(ctx.api.pid) - cpu0) / ((now() - t0) / 1000);
    const metrics1 = parsePrometheus(await (await fetch(`${ctx.apiUrl}/metrics`)).text());
    const lag = histogramDelta(metrics0, metrics1, 'sse_fanout_lag_seconds');
    const reports = await Promise.all(procs.map((p) => p.ask({ cmd: 'report' })));
    const latencies = reports.flatMap((x) => x.latencies);
    const received = reports.reduce((a, x) => a + x.received, 0);
    const cutOff = reports.reduce((a, x) => a + x.ended, 0);
    const result = {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: percentile(latencies, 100),
      received,
      expected: sent * CLIENTS,
      cpu,
      cutOff,
      rss: rssMb(ctx.api.pid),
      // The API's own share: event → framed for its clients (histogram bucket bounds).
      lagP50: lag.p50S * 1000,
      lagP99: lag.p99S * 1000,
    };
    log(
      `sse round ${r}: p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms, max ${ms(result.max)} ms, ` +
        `(event → API fan-out p50 ≤ ${result.lagP50} ms, p99 ≤ ${result.lagP99} ms), ` +
        `${received}/${result.expected} delivered, ${cutOff} clients cut off, ` +
        `API CPU ${round(cpu * 100, 0)}%, RSS ${result.rss} MB`,
    );
    rounds.push(result);
  }
  await closeClients(procs);
  const pick = (k) => rounds.map((x) => x[k]);
  const fmt = (k) => `${ms(median(pick(k)))} ms (${pick(k).map(ms).join(' / ')})`;
  ctx.rows.push(
    [`SSE latency p50, ${RATE} ev/s × ${CLIENTS} clients`, fmt('p50'), '—'],
    [
      `SSE latency p99, ${RATE} ev/s × ${CLIENTS} clients`,
      fmt('p99'),
      median(pick('p99')) <= 50 ? 'target ≤ 50 ms: met' : 'target ≤ 50 ms: NOT met',
    ],
    [
      'of which event → API fan-out (gateway, NATS, API reader)',
      `p50 ≤ ${median(pick('lagP50'))} ms, p99 ≤ ${median(pick('lagP99'))} ms`,
      'histogram bucket bounds',
    ],
    [
      'SSE clients cut off as slow (all rounds)',
      String(pick('cutOff').reduce((a, b) => a + b, 0)),
      '—',
    ],
    [
      'SSE events delivered / expected',
      `${pick('received').reduce((a, b) => a + b, 0)} / ${pick('expected').reduce((a, b) => a + b, 0)}`,
      '—',
    ],
    [
      'API CPU during the SSE run (1 core = 100%)',
      `${round(median(pick('cpu')) * 100, 0)}%`,
      `RSS ${median(pick('rss'))} MB`,
    ],
  );
}

async function webhooksPhase() {
  const received = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const at = now();
      const t = Number(/"reason":"t=([0-9.]+)"/.exec(body)?.[1]);
      received.push({ at, latency: at - t, id: req.headers['webhook-id'] });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  for (let i = 0; i < WEBHOOKS; i++) {
    const created = await api('POST', '/api/v1/webhooks', { url, eventTypes: ['session.status'] });
    if (created.status !== 201)
      throw new Error(`webhook: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const sessions = Array.from({ length: 100 }, () => newId());
  await intakeCaughtUp();

  const bursts = [];
  for (let r = 1; r <= ROUNDS; r++) {
    received.length = 0;
    const t0 = now();
    for (let i = 0; i < BURST; i++) publishEvent(sessions[i % sessions.length]);
    await ctx.publisher.flush(60_000);
    const expected = BURST * WEBHOOKS;
    await waitFor('burst delivered', () => received.length >= expected, 600_000, 20);
    const seconds = (received.at(-1).at - t0) / 1000;
    const result = {
      rate: expected / seconds,
      p50: percentile(
        received.map((x) => x.latency),
        50,
      ),
      p99: percentile(
        received.map((x) => x.latency),
        99,
      ),
      duplicates: received.length - new Set(received.map((x) => x.id)).size,
    };
    log(`webhook burst ${r}: ${round(result.rate, 0)} deliveries/s, p99 ${ms(result.p99)} ms`);
    bursts.push(result);
  }
  const steady = [];
  for (let r = 1; r <= ROUNDS; r++) {
    received.length = 0;
    const sent = await publishAt(WEBHOOK_RATE, SECONDS, sessions);
    await waitFor('steady delivered', () => received.length >= sent * WEBHOOKS, 120_000, 20);
    const latencies = received.map((x) => x.latency);
    const result = { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    log(`webhook steady ${r}: p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms`);
    steady.push(result);
  }
  receiver.close();
  const b = (k) => bursts.map((x) => x[k]);
  const s = (k) => steady.map((x) => x[k]);
  ctx.rows.push(
    [
      `webhook deliveries/s, burst of ${BURST} events × ${WEBHOOKS} webhooks`,
      `${round(median(b('rate')), 0)} (${b('rate')
        .map((v) => round(v, 0))
        .join(' / ')})`,
      `p50 ${ms(median(b('p50')))} ms, p99 ${ms(median(b('p99')))} ms (queueing included)`,
    ],
    [
      `webhook latency, steady ${WEBHOOK_RATE} ev/s × ${WEBHOOKS} webhooks`,
      `p50 ${ms(median(s('p50')))} ms`,
      `p99 ${ms(median(s('p99')))} ms (${s('p99').map(ms).join(' / ')})`,
    ],
    ['duplicate webhook-ids received', String(bursts.reduce((a, x) => a + x.duplicates, 0)), '—'],
  );
}

/** Waits until the webhook intake has taken in the whole stream (the SSE phase's events). */
async function intakeCaughtUp() {
  const nc = await ctx.nats.get();
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(`${ctx.prefix.toUpperCase()}_EVENTS`);
  const db = new pg.Client({ connectionString: ctx.dbUrl, application_name: 'wagw-bench' });
  await db.connect();
  try {
    await waitFor(
      'webhook intake caught up',
      async () => {
        const { rows } = await db.query(`SELECT cursor FROM webhook_intake`);
        return Number(rows[0]?.cursor ?? 0) >= state.last_seq;
      },
      120_000,
      100,
    );
  } finally {
    await db.end();
  }
}

async function cleanup() {
  for (const p of ctx.clientProcs) p.child.kill('SIGKILL');
  await ctx.publisher?.close().catch(() => undefined);
  await ctx.nats?.close().catch(() => undefined);
  await ctx.api?.stop().catch(() => undefined);
  try {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list())
      if (s.config.name.startsWith(ctx.prefix.toUpperCase()))
        await jsm.streams.delete(s.config.name);
    await nc.close();
  } catch (e) {
    log('stream cleanup failed', e.message);
  }
  if (ctx.dbCreated)
    await admin(`DROP DATABASE IF EXISTS "${ctx.dbName}" WITH (FORCE)`).catch(() => undefined);
}

async function main() {
  log(
    `events benchmark: ${cpus().length} cores, load ${loadavg()
      .map((l) => round(l, 2))
      .join(' ')}`,
  );
  await setup();
  if (PHASES.has('idle') && IDLE_CLIENTS > 0) await idlePhase();
  if (PHASES.has('sse')) await ssePhase();
  if (PHASES.has('webhooks')) await webhooksPhase();
  const widths = [0, 1, 2].map((i) =>
    Math.max(
      ...[['metric', 'median (rounds)', 'note'], ...ctx.rows].map((r) => String(r[i]).length),
    ),
  );
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(['metric', 'median (rounds)', 'note']));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of ctx.rows) console.log(line(r));
}

const onSignal = () => {
  killAllChildren();
  for (const p of ctx.clientProcs) p.child.kill('SIGKILL');
  process.exit(130);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

try {
  await main();
} catch (error) {
  log('benchmark failed:', error);
  if (ctx.api) log(ctx.api.output().slice(-3000));
  process.exitCode = 1;
} finally {
  await cleanup();
}
