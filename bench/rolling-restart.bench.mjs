// Rolling-restart benchmark: what a Kubernetes rollout of the gateways does to the sessions.
//
//   npm run build && npm run bench:rolling
//
// A sandbox fleet (wa-sim, the API, BENCH_GATEWAYS gateways, all real processes on the
// machine's Postgres and NATS) holds BENCH_SESSIONS paired, working sessions. Each round
// restarts every gateway, one at a time: SIGTERM (the gateway hands its sessions over and
// exits), wait until every one of its sessions is `working` again on a peer, then start its
// replacement (a new GATEWAY_ID, as a new pod has a new name) and wait until it is ready.
// Measured per round: the gap each handed-over session saw (its holder's `starting` "handed
// over" event → its `working` event from the peer, both stamped by the gateways), the time from
// SIGTERM to all of a gateway's sessions working on peers, and the sim's evictions (two
// connections for one device at once: must stay 0). Printed: medians of the rounds.
//
// Options (env): BENCH_SESSIONS=300 BENCH_GATEWAYS=3 BENCH_ROUNDS=3 LEASE_TTL_MS=10000
//   BENCH_PAIR_CONCURRENCY=16 TEST_DATABASE_URL TEST_NATS_URL
//
// Every process it starts is killed at the end (also on failure or Ctrl-C); its database is
// dropped and the JetStream streams of its NATS prefix are deleted.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import {
  cliCreateApiKey,
  freePort,
  killAllChildren,
  runNode,
  sleep,
  waitFor,
  waitGatewayReady,
} from './lib/procs.mjs';
import { adminSql, apiCall, envInt } from './lib/services.mjs';
import { median, percentile, pMap, round } from './lib/stats.mjs';

const N = envInt('BENCH_SESSIONS', 300);
const GATEWAYS = Math.max(2, envInt('BENCH_GATEWAYS', 3));
const ROUNDS = Math.max(1, envInt('BENCH_ROUNDS', 3));
// The production default: a rolling restart must not depend on a short lease.
const TTL = envInt('LEASE_TTL_MS', 10_000);
const PAIR_CONCURRENCY = Math.max(1, envInt('BENCH_PAIR_CONCURRENCY', 16));
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 23)}]`, ...a);

const ctx = {
  prefix: `rb${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
  authStateKey: randomBytes(32).toString('base64'),
  dbName: `wagw_bench_rolling_${Date.now()}`,
  dbCreated: false,
  gwSeq: 0,
  gateways: [],
  procs: [],
  /** sessionId → events seen, in arrival order: { status, gatewayId, reason, occurredAt }. */
  events: new Map(),
};

const api = (method, path, body) => apiCall(ctx.apiUrl, ctx.apiKey, method, path, body);

async function sim(method, path, body) {
  const res = await fetch(`${ctx.simUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function startGateway() {
  const id = `gw-${++ctx.gwSeq}`;
  const opsPort = await freePort();
  const proc = runNode(id, 'apps/gateway/dist/main.js', {
    GATEWAY_ID: id,
    GATEWAY_OPS_PORT: String(opsPort),
    DATABASE_URL: ctx.dbUrl,
    NATS_URL,
    NATS_PREFIX: ctx.prefix,
    AUTH_STATE_KEY: ctx.authStateKey,
    WA_NETWORK: 'sandbox',
    WA_SIM_URL: ctx.simUrl,
    LEASE_TTL_MS: String(TTL),
  });
  ctx.procs.push(proc);
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  await waitGatewayReady(id, proc, opsUrl);
  const gateway = { id, proc, opsUrl };
  ctx.gateways.push(gateway);
  return gateway;
}

async function heldBy(ids) {
  const { rows } = await ctx.pool.query(
    `SELECT split_part(owner_id, '/', 1) AS gateway, count(*)::int AS n FROM sessions
     WHERE id = ANY($1::bpchar[]) AND status = 'working' AND owner_id IS NOT NULL
       AND status_epoch = epoch AND lease_expires_at > now()
     GROUP BY 1`,
    [ids],
  );
  return new Map(rows.map((r) => [r.gateway, r.n]));
}

async function pair(n) {
  const ids = await pMap(
    Array.from({ length: n }, (_, i) => i),
    PAIR_CONCURRENCY,
    async (i) => {
      // A loaded machine (other processes on its two cores) can time a request out: retry.
      for (let attempt = 1; ; attempt++) {
        const r = await api('POST', '/api/v1/sessions', { label: `rolling-${i}`, start: true });
        if (r.status === 201) return r.body.id;
        if (r.status < 500 || attempt === 5)
          throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
        await sleep(500 * attempt);
      }
    },
  );
  await pMap(ids, PAIR_CONCURRENCY, async (id, i) => {
    const phoneNumber = String(628200000000 + i);
    const deadline = performance.now() + 60_000;
    let last;
    while (performance.now() < deadline) {
      const qr = await api('GET', `/api/v1/sessions/${id}/qr`);
      if (qr.status === 409) return;
      if (qr.status === 200) {
        const scan = await sim('POST', '/sim/v1/qr:scan', { qr: qr.body.qr, phoneNumber });
        if (scan.status === 200) return;
        last = `scan ${scan.status}`;
      } else last = `qr ${qr.status}`;
      await sleep(250);
    }
    throw new Error(`could not pair ${id}: ${last}`);
  });
  await waitFor(
    `${n} sessions working`,
    async () => [...(await heldBy(ids)).values()].reduce((a, b) => a + b, 0) === n,
    120_000,
    100,
  );
  return ids;
}

/**
 * The gap of one handed-over session: its holder's "handed over by <gateway>" `starting` event
 * to the first `working` event of another gateway after it (ms); null if either is missing.
 */
function gapOf(sessionId, fromGateway, sinceWall) {
  const events = ctx.events.get(sessionId) ?? [];
  const handedOver = events.find(
    (e) =>
      e.occurredAt >= sinceWall &&
      e.status === 'starting' &&
      e.reason === `handed over by ${fromGateway}`,
  );
  if (!handedOver) return null;
  const working = events.find(
    (e) =>
      e.occurredAt >= handedOver.occurredAt &&
      e.status === 'working' &&
      e.gatewayId !== fromGateway,
  );
  return working ? working.occurredAt - handedOver.occurredAt : null;
}

async function round_(ids, roundNo) {
  const evictionsBefore = (await sim('GET', '/sim/v1/connections')).body.evictions.length;
  const gaps = [];
  const handovers = [];
  let missing = 0;
  for (const gateway of [...ctx.gateways]) {
    const before = await heldBy(ids);
    const held = before.get(gateway.id) ?? 0;
    const { rows } = await ctx.pool.query(
      `SELECT id FROM sessions WHERE id = ANY($1::bpchar[]) AND split_part(owner_id, '/', 1) = $2`,
      [ids, gateway.id],
    );
    const mine = rows.map((r) => r.id.trim());
    const sinceWall = Date.now();
    const t0 = performance.now();
    await gateway.proc.stop('SIGTERM', 30_000);
    const exitedMs = performance.now() - t0;
    ctx.gateways.splice(ctx.gateways.indexOf(gateway), 1);
    await waitFor(
      `${gateway.id}'s ${held} sessions working on peers`,
      async () => {
        const now = await heldBy(ids);
        const total = [...now.values()].reduce((a, b) => a + b, 0);
        return !now.has(gateway.id) && total === ids.length;
      },
      60_000,
      20,
    );
    const allWorkingMs = performance.now() - t0;
    await sleep(200); // the last `working` events reach our subscription
    for (const id of mine) {
      const gap = gapOf(id, gateway.id, sinceWall);
      if (gap === null) missing += 1;
      else gaps.push(gap);
    }
    handovers.push({ gateway: gateway.id, held, exitedMs, allWorkingMs });
    log(
      `round ${roundNo}: ${gateway.id} held ${held}; exited after ${round(exitedMs)} ms, all working on peers after ${round(allWorkingMs)} ms`,
    );
    await startGateway();
  }
  const evictions =
    (await sim('GET', '/sim/v1/connections')).body.evictions.length - evictionsBefore;
  const notWorking = ids.length - [...(await heldBy(ids)).values()].reduce((a, b) => a + b, 0);
  return {
    evictions,
    notWorking,
    missing,
    maxGapMs: gaps.length ? Math.max(...gaps) : NaN,
    p50GapMs: percentile(gaps, 50),
    p99GapMs: percentile(gaps, 99),
    handedOver: gaps.length + missing,
    maxAllWorkingMs: Math.max(...handovers.map((h) => h.allWorkingMs)),
    maxExitMs: Math.max(...handovers.map((h) => h.exitedMs)),
  };
}

async function main() {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  await adminSql(ADMIN_URL, `CREATE DATABASE "${ctx.dbName}"`);
  ctx.dbCreated = true;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${ctx.dbName}`;
  ctx.dbUrl = dbUrl.toString();
  execFileSync(process.execPath, ['apps/api/dist/migrate.js'], {
    env: { PATH: process.env.PATH, DATABASE_URL: ctx.dbUrl, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  ctx.apiKey = cliCreateApiKey({ DATABASE_URL: ctx.dbUrl });
  ctx.pool = new pg.Pool({ connectionString: ctx.dbUrl, max: 3, application_name: 'wagw-bench' });

  ctx.nc = await connect({ servers: NATS_URL, name: 'wagw-rolling-bench' });
  ctx.nc.subscribe(`${ctx.prefix}.v1.events.session.status`, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const ev = msg.json();
        const list = ctx.events.get(ev.sessionId) ?? [];
        list.push({ ...ev.data, occurredAt: ev.occurredAt });
        ctx.events.set(ev.sessionId, list);
      } catch {
        /* not an event */
      }
    },
  });

  const simPort = await freePort();
  ctx.sim = runNode('wa-sim', 'apps/wa-sim/dist/main.js', {
    WA_SIM_PORT: String(simPort),
    WA_SIM_HOST: '127.0.0.1',
    WA_SIM_QR_TTL_MS: '60000',
  });
  ctx.procs.push(ctx.sim);
  ctx.simUrl = `http://127.0.0.1:${simPort}`;
  await waitFor('wa-sim ready', async () => (await fetch(`${ctx.simUrl}/sim/v1/healthz`)).ok);

  const apiPort = await freePort();
  ctx.api = runNode('api', 'apps/api/dist/main.js', {
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATABASE_URL: ctx.dbUrl,
    NATS_URL,
    NATS_PREFIX: ctx.prefix,
    QR_WAIT_MS: '20000',
    ORG_MAX_SESSIONS: '100000',
    ORG_MAX_PAIRING: '100000',
  });
  ctx.procs.push(ctx.api);
  ctx.apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitFor('API ready', async () => {
    if (!ctx.api.alive) throw new Error(`API exited: ${ctx.api.output()}`);
    return (await fetch(`${ctx.apiUrl}/readyz`)).ok;
  });

  for (let i = 0; i < GATEWAYS; i++) await startGateway();
  log(`pairing ${N} sessions on ${GATEWAYS} gateways`);
  const ids = await pair(N);
  log(`held: ${JSON.stringify(Object.fromEntries(await heldBy(ids)))}`);

  const rounds = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const result = await round_(ids, r);
    rounds.push(result);
    log(`round ${r}: ${JSON.stringify(result)}`);
  }
  const pick = (k) => rounds.map((r) => round(r[k]));
  const rows = [
    ['sessions (paired, working)', N, ''],
    ['gateways restarted per round (SIGTERM, one at a time)', GATEWAYS, ''],
    ['sessions handed over per round', median(pick('handedOver')), pick('handedOver').join(' / ')],
    ['longest gap a session saw (ms)', median(pick('maxGapMs')), pick('maxGapMs').join(' / ')],
    ['gap p50 (ms)', median(pick('p50GapMs')), pick('p50GapMs').join(' / ')],
    ['gap p99 (ms)', median(pick('p99GapMs')), pick('p99GapMs').join(' / ')],
    [
      'SIGTERM → all its sessions working on peers, slowest gateway (ms)',
      median(pick('maxAllWorkingMs')),
      pick('maxAllWorkingMs').join(' / '),
    ],
    [
      'SIGTERM → process exit, slowest (ms)',
      median(pick('maxExitMs')),
      pick('maxExitMs').join(' / '),
    ],
    [
      'sim evictions (must be 0)',
      rounds.reduce((a, r) => a + r.evictions, 0),
      pick('evictions').join(' / '),
    ],
    [
      'sessions not working after a round (must be 0)',
      rounds.reduce((a, r) => a + r.notWorking, 0),
      '',
    ],
    ['handed-over sessions without both events', rounds.reduce((a, r) => a + r.missing, 0), ''],
  ];
  console.log(
    `\nRolling restart — ${N} sessions, ${GATEWAYS} gateways, LEASE_TTL_MS=${TTL}, ${ROUNDS} rounds (load average at start ${load})\n`,
  );
  console.log('| metric | median | rounds |\n| --- | --- | --- |');
  for (const [metric, value, detail] of rows) console.log(`| ${metric} | ${value} | ${detail} |`);
  const failed =
    rounds.some((r) => r.evictions > 0 || r.notWorking > 0) ||
    rounds.reduce((a, r) => a + r.handedOver, 0) === 0;
  return failed;
}

async function cleanup() {
  killAllChildren();
  await ctx.pool?.end().catch(() => undefined);
  if (ctx.nc) {
    try {
      const jsm = await jetstreamManager(ctx.nc);
      for await (const s of jsm.streams.list())
        if (s.config.name.startsWith(ctx.prefix.toUpperCase()))
          await jsm.streams.delete(s.config.name);
    } catch (e) {
      log(`could not delete streams of ${ctx.prefix}: ${e.message}`);
    }
    await ctx.nc.close().catch(() => undefined);
  }
  if (ctx.dbCreated)
    await adminSql(ADMIN_URL, `DROP DATABASE IF EXISTS "${ctx.dbName}" WITH (FORCE)`).catch((e) =>
      log(`could not drop ${ctx.dbName}: ${e.message}`),
    );
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    killAllChildren();
    cleanup().finally(() => process.exit(130));
  });
}

let failed;
try {
  failed = await main();
} catch (e) {
  failed = true;
  console.error(e);
  for (const p of ctx.procs)
    console.error(`--- ${p.name} output (tail) ---\n${p.output().slice(-3000)}`);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
