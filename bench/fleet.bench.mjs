// Fleet benchmark: the gateway fleet end to end, with the built processes (wa-sim, API, gateways)
// on the machine's real Postgres and NATS/JetStream.
//
//   npm run build && node bench/fleet.bench.mjs
//
// Measures (one table at the end):
//   1. `:start` → row `working` latency of PAIRED sessions (p50 / p99), sequential starts;
//   2. failover time after SIGKILL of the holder, for BENCH_SMALL_SESSIONS and BENCH_SESSIONS
//      sessions, against LEASE_TTL_MS + 2 s, and the wa-sim eviction list (must stay empty);
//   3. claim rate of a fresh gateway from a backlog of desired-running paired sessions;
//   4. gateway RSS per working session above its idle baseline;
//   5. Postgres connections per gateway (pg_stat_activity by application_name) ≤ DB_POOL_SIZE + 2
//      (its lease pool);
//   6. auth-state rows written per second during a takeover, and the new holder's CPU per
//      reconnect. The gateways run the real Baileys client on the sandbox (wa-sim).
// Plus evidence to explain them: lease renewal duration (gateway /metrics), claim batches,
// event publish and fold lag, CPU of every component.
//
// Options (env): BENCH_SESSIONS=1000 BENCH_SMALL_SESSIONS=100 BENCH_ROUNDS=3
//   BENCH_START_SESSIONS=200 BENCH_START_CYCLES=<ROUNDS> BENCH_START_CONCURRENCY=1 (list: "1,8")
//   LEASE_TTL_MS=10000 BENCH_GW_POOL_SIZE=5 BENCH_GW_CAPACITY=max(2000,SESSIONS) BENCH_SETTLE_MS=5000
//   BENCH_PAIR_CONCURRENCY=32 BENCH_PAIR_WAVE=250 BENCH_POLL_MS=5 (failover row poll) TEST_DATABASE_URL TEST_NATS_URL
//   BENCH_PHASES=failover,claim,small,start (a subset runs only those; pairing always runs)
//   BENCH_PAIR_GATEWAYS=1: pair on that many gateways (capacity SESSIONS/k each), then SIGTERM
//   them so that one fresh gateway takes every session over before the first failover. A pairing
//   costs a gateway ≈ 1 s of CPU; this keeps the pairing of 1,000 off a single gateway's core.
//   WA_CONNECT_CONCURRENCY, WA_CONNECT_LAG_LIMIT_MS: passed to every gateway when set.
//
// Every process it starts is killed at the end (also on failure or Ctrl-C); its database is
// dropped and the JetStream streams of its NATS prefix are deleted.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  cliCreateApiKey,
  componentCpu,
  componentCpuDelta,
  cpuSeconds,
  freePort,
  killAllChildren,
  rssMb,
  runNode,
  sleep,
  waitFor,
  waitGatewayReady,
} from './lib/procs.mjs';
import pg from 'pg';
import { adminSql, apiCall, envInt } from './lib/services.mjs';
import {
  histogramDelta,
  mergeHistograms,
  median,
  metricValue,
  parsePrometheus,
  percentile,
  pMap,
  round,
} from './lib/stats.mjs';

const int = envInt;

const N = int('BENCH_SESSIONS', 1000);
const SMALL = Math.min(int('BENCH_SMALL_SESSIONS', 100), N);
const ROUNDS = Math.max(1, int('BENCH_ROUNDS', 3));
const START_SESSIONS = Math.min(int('BENCH_START_SESSIONS', 200), N);
const START_CYCLES = Math.max(1, int('BENCH_START_CYCLES', ROUNDS));
const START_CONCURRENCY = (process.env.BENCH_START_CONCURRENCY ?? '1')
  .split(',')
  .map((s) => Math.max(1, Number(s) || 1));
const TTL = int('LEASE_TTL_MS', 10_000);
const GW_POOL = int('BENCH_GW_POOL_SIZE', 5);
const GW_CAPACITY = int('BENCH_GW_CAPACITY', Math.max(2000, N));
const SETTLE_MS = int('BENCH_SETTLE_MS', 5000);
const PAIR_CONCURRENCY = Math.max(1, int('BENCH_PAIR_CONCURRENCY', 32));
const PAIR_WAVE = Math.max(1, int('BENCH_PAIR_WAVE', 250));
const POLL_MS = Math.max(1, int('BENCH_POLL_MS', 5));
const PAIR_GATEWAYS = Math.max(1, int('BENCH_PAIR_GATEWAYS', 1));
const PHASES = new Set(
  (process.env.BENCH_PHASES ?? 'failover,claim,small,start').split(',').map((s) => s.trim()),
);
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const FAILOVER_TARGET_MS = TTL + 2000;

for (const url of [ADMIN_URL, NATS_URL]) {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname))
    throw new Error(`traffic stays on 127.0.0.1: refusing ${url}`);
}

const FOLD_CONSUMER = 'api-session-fold';
const ms = (v) => round(v, 1);
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 23)}]`, ...a);

/** Everything the run owns; `cleanup()` releases it. */
const ctx = {
  prefix: `fb${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
  authStateKey: randomBytes(32).toString('base64'),
  dbName: `wagw_bench_fleet_${Date.now()}`,
  dbCreated: false,
  gwSeq: 0,
  statusListeners: new Set(),
  gatewayProcs: [],
  pairRetries: 0,
  rows: [],
  notes: [],
};
ctx.stream = `${ctx.prefix.toUpperCase()}_EVENTS`;

// --- infrastructure ----------------------------------------------------------------------------

const admin = (sql) => adminSql(ADMIN_URL, sql);
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

async function startGateway(id = `gw-${++ctx.gwSeq}`, capacity = GW_CAPACITY) {
  const opsPort = await freePort();
  const spawnedAt = performance.now();
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
    GATEWAY_CAPACITY: String(capacity),
    DB_POOL_SIZE: String(GW_POOL),
    ...Object.fromEntries(
      ['WA_CONNECT_CONCURRENCY', 'WA_CONNECT_LAG_LIMIT_MS']
        .filter((k) => process.env[k])
        .map((k) => [k, process.env[k]]),
    ),
  });
  ctx.gatewayProcs.push(proc);
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  await waitGatewayReady(id, proc, opsUrl);
  return { id, proc, pid: proc.pid, opsUrl, spawnedAt, readyAt: performance.now() };
}

async function scrape(gw) {
  return parsePrometheus(await (await fetch(`${gw.opsUrl}/metrics`)).text());
}

/**
 * Scrapes a gateway's /metrics every `everyMs` during a phase: the worst event-loop lag (the
 * histogram prom-client resets at each scrape), leases lost (self-fence / renewal), the event
 * backlog, and the renewal-duration histogram over the whole phase.
 */
function sampleGateway(gw, everyMs = 250) {
  let stopped = false;
  const out = { loopLagMaxMs: 0, eventsPendingMax: 0, first: null, last: null };
  const done = (async () => {
    while (!stopped && gw.proc.alive) {
      try {
        const m = await scrape(gw);
        out.first ??= m;
        out.last = m;
        out.loopLagMaxMs = Math.max(
          out.loopLagMaxMs,
          metricValue(m, 'nodejs_eventloop_lag_max_seconds') * 1000,
        );
        out.eventsPendingMax = Math.max(
          out.eventsPendingMax,
          metricValue(m, 'gateway_events_pending'),
        );
      } catch {
        /* killed or busy */
      }
      await sleep(everyMs);
    }
  })();
  return async () => {
    stopped = true;
    await done;
    const lost = (why) =>
      metricValue(out.last, 'gateway_leases_lost_total', { why }) -
      (out.first ? metricValue(out.first, 'gateway_leases_lost_total', { why }) : 0);
    return {
      loopLagMaxMs: out.loopLagMaxMs,
      eventsPendingMax: out.eventsPendingMax,
      selfFenced: out.last ? lost('self_fence') : NaN,
      lostAtRenewal: out.last ? lost('renewal') : NaN,
      renew: out.last
        ? histogramDelta(out.first, out.last, 'gateway_lease_renew_duration_seconds')
        : null,
    };
  };
}

/** Several gateways' samples as one: worst lag and backlog, leases lost summed, renewals merged. */
function mergeSamples(samples) {
  const sum = (k) => samples.reduce((a, x) => a + x[k], 0);
  const max = (k) => Math.max(...samples.map((x) => x[k]));
  return {
    loopLagMaxMs: max('loopLagMaxMs'),
    eventsPendingMax: max('eventsPendingMax'),
    selfFenced: sum('selfFenced'),
    lostAtRenewal: sum('lostAtRenewal'),
    renew: samples.some((x) => x.renew === null)
      ? null
      : mergeHistograms(samples.map((x) => x.renew)),
  };
}

/**
 * Samples the event pipeline every 100 ms: the stream's last sequence (events the gateways got
 * acked) and the fold consumer's ack floor (events folded into rows). Returns both rates over
 * the span in which each moved.
 */
function samplePipeline() {
  let stopped = false;
  const samples = [];
  const done = (async () => {
    while (!stopped) {
      try {
        const [si, ci] = await Promise.all([
          ctx.jsm.streams.info(ctx.stream),
          ctx.jsm.consumers.info(ctx.stream, FOLD_CONSUMER),
        ]);
        samples.push({
          t: performance.now(),
          published: si.state.last_seq,
          folded: ci.ack_floor.stream_seq,
        });
      } catch {
        /* a lost sample is fine */
      }
      await sleep(100);
    }
  })();
  const rate = (key) => {
    const first = samples[0];
    if (!first) return { events: 0, perS: NaN };
    const moved = samples.filter((x) => x[key] > first[key]);
    if (moved.length === 0) return { events: 0, perS: NaN };
    // From the last sample before it moved to the first sample at its final value.
    const startIdx = samples.indexOf(moved[0]) - 1;
    const final = moved.at(-1)[key];
    const end = samples.find((x) => x[key] === final);
    const events = final - samples[startIdx][key];
    return { events, perS: events / ((end.t - samples[startIdx].t) / 1000) };
  };
  return async () => {
    stopped = true;
    await done;
    return { publish: rate('published'), fold: rate('folded') };
  };
}

/** Waits until the API's fold consumer has nothing pending: the rows show every event so far. */
async function foldDrained(timeoutMs = 120_000) {
  await waitFor(
    'fold consumer drained',
    async () => {
      const ci = await ctx.jsm.consumers.info(ctx.stream, FOLD_CONSUMER);
      return ci.num_pending === 0 && ci.num_ack_pending === 0;
    },
    timeoutMs,
    50,
  );
}

async function count(sql, params) {
  const { rows } = await ctx.pool.query(sql, params);
  return Number(rows[0].n);
}

/** All `ids` working on `gw`: live lease, status folded from the current epoch. */
async function assertHeldBy(gw, ids, timeoutMs = 120_000) {
  await waitFor(
    `${ids.length} sessions working on ${gw.id}`,
    async () =>
      (await count(
        `SELECT count(*) AS n FROM sessions WHERE id = ANY($1::bpchar[]) AND status = 'working' AND status_epoch = epoch
         AND gateway_id = $2 AND owner_id LIKE $2 || '/%' AND lease_expires_at > now()`,
        [ids, gw.id],
      )) === ids.length,
    timeoutMs,
    100,
  );
}

/**
 * Polls the rows until every id shows `working` folded from the current epoch by `gatewayId`;
 * returns for each id the time (ms after t0) of the first poll that saw it.
 */
async function pollWorking(ids, gatewayId, t0, timeoutMs) {
  const pending = new Set(ids);
  const at = new Map();
  const client = await ctx.pool.connect();
  try {
    while (pending.size > 0) {
      const { rows } = await client.query({
        name: 'poll-working',
        text: `SELECT id FROM sessions WHERE id = ANY($1::bpchar[]) AND status = 'working' AND status_epoch = epoch AND gateway_id = $2`,
        values: [[...pending], gatewayId],
      });
      const t = performance.now() - t0;
      for (const { id } of rows) {
        pending.delete(id.trim());
        at.set(id.trim(), t);
      }
      if (t > timeoutMs) break;
      if (pending.size > 0) await sleep(POLL_MS);
    }
  } finally {
    client.release();
  }
  return { at, pending };
}

/** Samples pg_stat_activity of our database every 100 ms; `window()` tracks the max per application. */
function startPgMonitor() {
  const windows = new Set();
  let stopped = false;
  const client = new pg.Client({
    connectionString: ctx.dbUrl,
    application_name: 'wagw-bench-monitor',
  });
  const done = (async () => {
    await client.connect();
    while (!stopped) {
      try {
        const { rows } = await client.query(
          `SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 GROUP BY 1`,
          [ctx.dbName],
        );
        for (const w of windows)
          for (const { app, n } of rows) w.max.set(app, Math.max(w.max.get(app) ?? 0, n));
      } catch {
        /* a sample lost is fine */
      }
      await sleep(100);
    }
    await client.end();
  })();
  return {
    window() {
      const w = { max: new Map(), close: () => windows.delete(w) };
      windows.add(w);
      return w;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** CPU seconds of every component, for a phase's CPU share. */
function cpuSnapshot(gateways) {
  const pids = { api: ctx.apiProc.pid, sim: ctx.simProc.pid };
  for (const g of gateways) pids[g.id] = g.pid;
  return componentCpu(pids, ctx.dbName);
}

/** % of one core each component used between two snapshots (`gateways`: those to show). */
function cpuShare(a, b, gateways) {
  const d = componentCpuDelta(a, b);
  const pct = (x) => Math.round((100 * x) / d.wallSeconds);
  const parts = {
    api: pct(d.procs.api),
    postgres: pct(d.postgres),
    nats: pct(d.nats),
    sim: pct(d.procs.sim),
    bench: pct(d.bench),
  };
  for (const g of gateways) if (d.procs[g.id] !== undefined) parts[g.id] = pct(d.procs[g.id]);
  parts.total = Object.values(parts).reduce((x, y) => x + y, 0);
  // Everything else on the machine (other test runs, linters...): the noise of this phase.
  parts.others = Math.max(0, pct(d.machine) - parts.total);
  return parts;
}

/**
 * CPU of single processes in 200 ms bins during a phase: a Node process is one thread, so a bin
 * near 100 % means it was saturated then even if its average over the phase looks low.
 */
function cpuTimeline(procs) {
  const bins = new Map(procs.map((p) => [p.name, []]));
  let last = { t: performance.now(), v: new Map(procs.map((p) => [p.name, cpuSeconds(p.pid)])) };
  const timer = setInterval(() => {
    const now = { t: performance.now(), v: new Map(procs.map((p) => [p.name, cpuSeconds(p.pid)])) };
    for (const p of procs)
      bins
        .get(p.name)
        .push((100 * (now.v.get(p.name) - last.v.get(p.name))) / ((now.t - last.t) / 1000));
    last = now;
  }, 200);
  return () => {
    clearInterval(timer);
    const out = {};
    for (const [name, b] of bins)
      out[name] = {
        peak: Math.round(Math.max(0, ...b)),
        busyBins: b.filter((x) => x >= 90).length,
        bins: b.length,
      };
    return out;
  };
}

/** Receipts of `session.status` events on the plain NATS subject (the stream captures the same messages). */
function listen(fn) {
  ctx.statusListeners.add(fn);
  return () => ctx.statusListeners.delete(fn);
}

/** Groups claim times (ms, sorted) into bursts separated by more than `gap` ms. */
function bursts(times, gap = 30) {
  const sorted = [...times].sort((a, b) => a - b);
  const out = [];
  for (const t of sorted) {
    const last = out.at(-1);
    if (last && t - last.end <= gap) {
      last.end = t;
      last.n += 1;
    } else out.push({ start: t, end: t, n: 1 });
  }
  return out;
}

// --- session management through the API --------------------------------------------------------

/** Pairs `n` sessions in waves of PAIR_WAVE (create with start:true, GET /qr, scan on the sim). */
async function createAndPair(n) {
  const t0 = performance.now();
  const ids = [];
  for (let from = 0; from < n; from += PAIR_WAVE)
    ids.push(...(await pairWave(from, Math.min(n, from + PAIR_WAVE))));
  return { ids, ms: performance.now() - t0 };
}

async function pairWave(from, to) {
  const n = to - from;
  const ids = await pMap(
    Array.from({ length: n }, (_, i) => from + i),
    PAIR_CONCURRENCY,
    async (i) => {
      const r = await api('POST', '/api/v1/sessions', { label: `bench-${i}`, start: true });
      if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id;
    },
  );
  await pMap(ids, PAIR_CONCURRENCY, async (id, i) => {
    const phoneNumber = String(628100000000 + from + i);
    let last;
    // A QR can be stale: the row keeps the QR of a connection the gateway has closed (e.g. it
    // self-fenced) until a new claim emits a new status; so retry for a while.
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline) {
      const qr = await api('GET', `/api/v1/sessions/${id}/qr`);
      if (qr.status === 409) return; // already paired
      if (qr.status === 200) {
        const scan = await sim('POST', '/sim/v1/qr:scan', { qr: qr.body.qr, phoneNumber });
        if (scan.status === 200) return;
        last = `scan ${scan.status} ${JSON.stringify(scan.body)}`;
        ctx.pairRetries += 1;
      } else last = `qr ${qr.status} ${JSON.stringify(qr.body)}`;
      await sleep(250);
    }
    throw new Error(`could not pair ${id}: ${last}`);
  });
  try {
    await waitFor(
      `${n} sessions paired and working`,
      async () =>
        (await count(
          `SELECT count(*) AS n FROM sessions WHERE id = ANY($1::bpchar[]) AND status = 'working' AND phone_number IS NOT NULL`,
          [ids],
        )) === n,
      // A pairing costs the gateway ≈ 0.5 s of CPU (812 pre-keys) and the gateway pairs only
      // WA_PAIRING_CONCURRENCY (2) at once: about one a second, slower as it holds more.
      Math.max(120_000, n * 2_500),
      100,
    );
  } catch (e) {
    const { rows } = await ctx.pool.query(
      `SELECT status, desired_state, phone_number IS NOT NULL AS paired, lease_expires_at > now() AS live, status_epoch = epoch AS current, count(*)::int AS n
       FROM sessions WHERE id = ANY($1::bpchar[]) GROUP BY 1, 2, 3, 4, 5 ORDER BY n DESC`,
      [ids],
    );
    const ci = await ctx.jsm.consumers.info(ctx.stream, FOLD_CONSUMER);
    throw new Error(
      `${e.message}; rows: ${JSON.stringify(rows)}; fold consumer pending ${ci.num_pending}, ack pending ${ci.num_ack_pending}`,
      { cause: e },
    );
  }
  return ids;
}

async function stopSessions(ids) {
  await pMap(ids, 16, async (id) => {
    const r = await api('POST', `/api/v1/sessions/${id}:stop`);
    if (r.status !== 200) throw new Error(`stop ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  });
  await waitFor(
    `${ids.length} sessions stopped`,
    async () =>
      (await count(
        `SELECT count(*) AS n FROM sessions WHERE id = ANY($1::bpchar[]) AND desired_state = 'stopped' AND status = 'stopped' AND owner_id IS NULL`,
        [ids],
      )) === ids.length,
    // A saturated gateway stops a thousand sessions in more than a minute.
    Math.max(60_000, ids.length * 150),
    50,
  );
  await foldDrained();
}

// --- scenarios ---------------------------------------------------------------------------------

/**
 * All `ids` work on `holder`; a fresh gateway stands by; SIGKILL the holder and time until every
 * row shows `working` on the standby. Returns the standby (the next holder) and the measurements.
 */
/** Auth-state rows written so far (creds and keys: inserts, updates, deletes), by Postgres' counters. */
async function authRowWrites() {
  const { rows } = await ctx.pool.query(
    `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::float8 AS n
     FROM pg_stat_user_tables WHERE relname IN ('wa_auth_keys', 'wa_auth_creds')`,
  );
  return Number(rows[0].n);
}

async function failover(holder, ids) {
  await assertHeldBy(holder, ids);
  await foldDrained();
  const standby = await startGateway();
  await sleep(2000); // idle baseline: warmed up, nothing held
  const idleRss = rssMb(standby.pid);
  const m0 = await scrape(standby);
  const evictionsBefore = (await sim('GET', '/sim/v1/connections')).body.evictions.length;
  const starting = [];
  const working = [];
  const workingOccurred = [];
  const publishLag = [];
  const perSession = new Map();
  const unlisten = listen((ev, t, wallNow) => {
    if (ev.data.gatewayId !== standby.id) return;
    const ps = perSession.get(ev.sessionId) ?? {};
    perSession.set(ev.sessionId, ps);
    if (ev.data.status === 'starting') {
      starting.push({ t, occurredAt: ev.occurredAt });
      ps.claimed ??= ev.occurredAt;
    }
    if (ev.data.status === 'working') {
      ps.open ??= ev.occurredAt;
      working.push(t);
      workingOccurred.push(ev.occurredAt);
      publishLag.push(wallNow - ev.occurredAt);
    }
  });
  const pgWin = ctx.pgMon.window();
  const stopSampler = sampleGateway(standby);
  const stopPipeline = samplePipeline();
  const stopTimeline = cpuTimeline([
    { name: 'gateway', pid: standby.pid },
    { name: 'api', pid: ctx.apiProc.pid },
    { name: 'sim', pid: ctx.simProc.pid },
  ]);
  // A random phase: the standby's claim timer (every TTL/3 since its start) must not be aligned
  // with the kill the same way in every round.
  await sleep(50 + Math.random() * Math.max(Math.floor(TTL / 3), 100));
  const cpu0 = cpuSnapshot([standby]);
  const writes0 = await authRowWrites();
  const gatewayCpu0 = cpuSeconds(standby.pid);
  const wall0 = Date.now();
  const t0 = performance.now();
  holder.proc.child.kill('SIGKILL');
  const expiry = ctx.pool
    .query(
      `SELECT (extract(epoch FROM max(lease_expires_at)) * 1000)::float8 AS exp FROM sessions WHERE id = ANY($1::bpchar[])`,
      [ids],
    )
    .then((r) => Number(r.rows[0].exp) - wall0)
    .catch(() => NaN);
  // A takeover is CPU-bound (a login costs tens of ms): allow 200 ms per session beyond a minute.
  const takeoverTimeoutMs = TTL + 60_000 + ids.length * 200;
  const { at, pending } = await pollWorking(ids, standby.id, t0, takeoverTimeoutMs);
  const cpu1 = cpuSnapshot([standby]);
  const gatewayCpu1 = cpuSeconds(standby.pid);
  const sampled = await stopSampler();
  const pipeline = await stopPipeline();
  const timeline = stopTimeline();
  const m1 = await scrape(standby);
  const rssAll = rssMb(standby.pid);
  unlisten();
  if (pending.size > 0)
    throw new Error(
      `failover of ${ids.length}: ${pending.size} sessions not working on ${standby.id} after ${takeoverTimeoutMs} ms`,
    );
  await holder.proc.exited;
  // Steady hold: renewals of `ids.length` leases, RSS after a settle.
  await foldDrained();
  const steady0 = await scrape(standby);
  await sleep(SETTLE_MS);
  const steady1 = await scrape(standby);
  const rssSettled = rssMb(standby.pid);
  // Postgres publishes a backend's table counters within a second of its transaction.
  const authWrites = (await authRowWrites()) - writes0;
  pgWin.close();
  const conns = await sim('GET', '/sim/v1/connections');
  const onStandby = conns.body.items.filter((c) => c.clientId === standby.id).length;
  const onHolder = conns.body.items.filter((c) => c.clientId === holder.id).length;
  const times = [...at.values()];
  // Claim moments on the gateway's clock (the `starting` event is created as the runner starts, right after the claim).
  const startRel = starting.map((s) => s.occurredAt - wall0);
  const claimBursts = bursts(starting.map((s) => s.occurredAt - wall0));
  return {
    standby,
    res: {
      n: ids.length,
      allMs: Math.max(...times),
      p50Ms: median(times),
      authWrites,
      authWritesPerS: authWrites / (Math.max(...times) / 1000),
      cpuPerReconnectMs: ((gatewayCpu1 - gatewayCpu0) * 1000) / ids.length,
      leaseExpiredMs: await expiry,
      firstClaimMs: Math.min(...startRel),
      lastClaimMs: Math.max(...startRel),
      lastWorkingEventMs: Math.max(...working) - t0,
      lastOpenOnGatewayMs: Math.max(...workingOccurred) - wall0,
      foldTailMs: Math.max(...times) - (Math.max(...working) - t0),
      pipeline,
      timeline,
      connectMs: [...perSession.values()]
        .filter((p) => p.open && p.claimed)
        .map((p) => p.open - p.claimed),
      publishLagP50: median(publishLag),
      publishLagMax: Math.max(...publishLag),
      claimBursts,
      evictions: conns.body.evictions.length - evictionsBefore,
      evictionsTotal: conns.body.evictions.length,
      onStandby,
      onHolder,
      idleRss,
      rssAll,
      rssSettled,
      renewBurst: histogramDelta(m0, m1, 'gateway_lease_renew_duration_seconds'),
      renewSteady: histogramDelta(steady0, steady1, 'gateway_lease_renew_duration_seconds'),
      leasesLost: metricValue(steady1, 'gateway_leases_lost_total'),
      sampled,
      loopLagP99: metricValue(m1, 'nodejs_eventloop_lag_p99_seconds'),
      heapMb: metricValue(steady1, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      heapIdleMb: metricValue(m0, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      // Its main pool and its lease pool (2 connections, so renewals never queue behind writes).
      pgMax:
        (pgWin.max.get(`wagw-gateway-${standby.id}`) ?? 0) +
        (pgWin.max.get(`wagw-gateway-${standby.id}-leases`) ?? 0),
      pgApi: pgWin.max.get('wagw-api') ?? 0,
      cpu: cpuShare(cpu0, cpu1, [standby]),
      get cpuGateway() {
        return this.cpu[standby.id];
      },
    },
  };
}

/** SIGKILL the holder, let every lease expire, start one fresh gateway: how fast does it take the backlog? */
async function claimRate(holder, ids) {
  await assertHeldBy(holder, ids);
  await foldDrained();
  holder.proc.child.kill('SIGKILL');
  await holder.proc.exited;
  await waitFor(
    'every lease expired',
    async () =>
      (await count(
        `SELECT count(*) AS n FROM sessions WHERE id = ANY($1::bpchar[]) AND lease_expires_at > now()`,
        [ids],
      )) === 0,
    TTL + 10_000,
    20,
  );
  await sleep(100);
  const id = `gw-${++ctx.gwSeq}`;
  const starting = [];
  const working = [];
  const workingOccurred = [];
  const unlisten = listen((ev, t) => {
    if (ev.data.gatewayId !== id) return;
    if (ev.data.status === 'starting') starting.push({ t, occurredAt: ev.occurredAt });
    if (ev.data.status === 'working') {
      working.push(t);
      workingOccurred.push(ev.occurredAt);
    }
  });
  const pgWin = ctx.pgMon.window();
  const stopPipeline = samplePipeline();
  const cpu0 = cpuSnapshot([]);
  const wall0 = Date.now();
  const t0 = performance.now();
  const fresh = await startGateway(id);
  const stopTimeline = cpuTimeline([
    { name: 'gateway', pid: fresh.pid },
    { name: 'api', pid: ctx.apiProc.pid },
  ]);
  const stopSampler = sampleGateway(fresh);
  const { at, pending } = await pollWorking(ids, id, t0, 120_000);
  const sampled = await stopSampler();
  const pipeline = await stopPipeline();
  const timeline = stopTimeline();
  const cpu1 = cpuSnapshot([]);
  // The fresh gateway from its spawn: none of its CPU before cpu0.
  cpu1.procs[id] = cpuSeconds(fresh.pid);
  cpu0.procs[id] = 0;
  unlisten();
  pgWin.close();
  if (pending.size > 0)
    throw new Error(`claim rate: ${pending.size} sessions not working on ${id}`);
  const first = Math.min(...starting.map((s) => s.t)) - t0;
  const last = Math.max(...at.values());
  return {
    fresh,
    res: {
      n: ids.length,
      readyMs: fresh.readyAt - t0,
      firstClaimMs: first,
      allMs: last,
      lastWorkingEventMs: Math.max(...working) - t0,
      rate: ids.length / ((last - first) / 1000),
      timeline,
      gatewayRate:
        ids.length /
        ((Math.max(...workingOccurred) - Math.min(...starting.map((s) => s.occurredAt))) / 1000),
      pipeline,
      eventRate: ids.length / ((Math.max(...working) - t0 - first) / 1000),
      claimBursts: bursts(starting.map((s) => s.occurredAt - wall0)),
      pgMax:
        (pgWin.max.get(`wagw-gateway-${id}`) ?? 0) +
        (pgWin.max.get(`wagw-gateway-${id}-leases`) ?? 0),
      sampled,
      cpu: cpuShare(cpu0, cpu1, [fresh]),
    },
  };
}

/** Sequential (or `concurrency`-wide) `:start` of stopped, paired sessions; latency to the row's `working`. */
async function startLatency(sample, concurrency) {
  const cycles = [];
  // Warm-up (JIT, pools, prepared statements): one unmeasured cycle over a few sessions.
  const warm = sample.slice(0, Math.min(20, sample.length));
  await pMap(warm, concurrency, async (id) => {
    const r = await api('POST', `/api/v1/sessions/${id}:start`);
    if (r.status !== 200)
      throw new Error(`warm-up :start ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  });
  await waitFor(
    'warm-up sessions working',
    async () =>
      (await count(
        `SELECT count(*) AS n FROM sessions WHERE id = ANY($1::bpchar[]) AND status = 'working' AND status_epoch = epoch`,
        [warm],
      )) === warm.length,
    30_000,
    20,
  );
  await stopSessions(warm);
  for (let c = 0; c < START_CYCLES; c++) {
    const { rows } = await ctx.pool.query(
      `SELECT id, epoch FROM sessions WHERE id = ANY($1::bpchar[])`,
      [sample],
    );
    const epochBefore = new Map(rows.map((r) => [r.id.trim(), Number(r.epoch)]));
    const workingEvent = new Map();
    const startingAt = new Map();
    const openAt = new Map();
    const eventWaiters = new Map();
    const unlisten = listen((ev, t) => {
      if (!(ev.fence.epoch > (epochBefore.get(ev.sessionId) ?? Infinity))) return;
      if (ev.data.status === 'starting' && !startingAt.has(ev.sessionId))
        startingAt.set(ev.sessionId, ev.occurredAt);
      if (ev.data.status === 'working') {
        workingEvent.set(ev.sessionId, t);
        openAt.set(ev.sessionId, ev.occurredAt);
        eventWaiters.get(ev.sessionId)?.();
      }
    });
    const samples = [];
    let pollCount = 0;
    const stopSampler = sampleGateway(ctx.holder, 1000);
    const cpu0 = cpuSnapshot([ctx.holder]);
    await pMap(sample, concurrency, async (id) => {
      const client = await ctx.pool.connect();
      try {
        const wall0 = Date.now();
        const t0 = performance.now();
        let tResp = NaN;
        const req = api('POST', `/api/v1/sessions/${id}:start`).then((r) => {
          tResp = performance.now() - t0;
          if (r.status !== 200)
            throw new Error(`:start ${id}: ${r.status} ${JSON.stringify(r.body)}`);
        });
        req.catch(() => undefined);
        // The row can only turn `working` after the gateway's event reached the stream, and this
        // process sees that publish as early as the API's fold consumer does. So: wait for the
        // event (push, no load), then poll the row back to back (~0.2 ms per query) until it
        // shows working. If the event is missed, fall back to polling every 2 ms.
        if (!workingEvent.has(id)) {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, 2_000);
            eventWaiters.set(id, () => {
              clearTimeout(timer);
              resolve();
            });
          });
          eventWaiters.delete(id);
        }
        let tRow = NaN;
        let polls = 0;
        while (performance.now() - t0 < 30_000) {
          const {
            rows: [row],
          } = await client.query({
            name: 'poll-start',
            text: `SELECT (status = 'working' AND status_epoch = epoch AND epoch > $2) AS ok FROM sessions WHERE id = $1`,
            values: [id, epochBefore.get(id)],
          });
          if (row?.ok) {
            tRow = performance.now() - t0;
            break;
          }
          polls += 1;
          if (!workingEvent.has(id) || polls > 200) await sleep(2);
        }
        pollCount += polls + 1;
        await req;
        if (!Number.isFinite(tRow)) throw new Error(`${id} not working 30 s after :start`);
        // Gateway-side moments (its wall clock, 1 ms resolution): claimed (runner started) and open.
        samples.push({
          row: tRow,
          resp: tResp,
          event: (workingEvent.get(id) ?? NaN) - t0,
          claimed: (startingAt.get(id) ?? NaN) - wall0,
          open: (openAt.get(id) ?? NaN) - wall0,
        });
      } finally {
        client.release();
      }
    });
    const cpu1 = cpuSnapshot([ctx.holder]);
    const sampled = await stopSampler();
    unlisten();
    await foldDrained();
    await stopSessions(sample);
    const rowsMs = samples.map((s) => s.row);
    cycles.push({
      p50: percentile(rowsMs, 50),
      p99: percentile(rowsMs, 99),
      max: Math.max(...rowsMs),
      respP50: percentile(
        samples.map((s) => s.resp),
        50,
      ),
      respP99: percentile(
        samples.map((s) => s.resp),
        99,
      ),
      claimedP50: percentile(samples.map((s) => s.claimed).filter(Number.isFinite), 50),
      openP50: percentile(samples.map((s) => s.open).filter(Number.isFinite), 50),
      eventP50: percentile(samples.map((s) => s.event).filter(Number.isFinite), 50),
      eventP99: percentile(samples.map((s) => s.event).filter(Number.isFinite), 99),
      all: rowsMs,
      pollsPerStart: pollCount / samples.length,
      foldP50: percentile(samples.map((s) => s.row - s.event).filter(Number.isFinite), 50),
      sampled,
      cpu: cpuShare(cpu0, cpu1, [ctx.holder]),
    });
    const k = cycles.at(-1);
    log(
      `:start cycle ${c + 1}/${START_CYCLES} (concurrency ${concurrency}): p50 ${ms(k.p50)} ms, p99 ${ms(k.p99)} ms; p50 of: claimed ${ms(k.claimedP50)}, HTTP reply ${ms(k.respP50)}, open ${ms(k.openP50)}, event received ${ms(k.eventP50)}; cpu ${JSON.stringify(k.cpu)}`,
    );
  }
  return cycles;
}

// --- report ------------------------------------------------------------------------------------

function row(metric, values, { target = '', ok, unit = '', digits = 1, pick = median } = {}) {
  const finite = values.filter((v) => Number.isFinite(v));
  const value = finite.length ? pick(finite) : NaN;
  ctx.rows.push({
    metric,
    median: Number.isFinite(value) ? `${round(value, digits)}${unit}` : String(value),
    rounds: values.map((v) => round(v, digits)).join(' / '),
    target,
    met: ok === undefined ? '' : ok(value) ? 'yes' : 'NO',
  });
  return value;
}

function printReport() {
  console.log(
    `\nFleet benchmark — ${process.argv.map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`,
  );
  console.log(
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB, load avg at start ${ctx.loadAtStart}; ` +
      `Postgres ${ctx.pgVersion ?? '?'}, NATS ${ctx.natsVersion ?? '?'}`,
  );
  console.log(
    `BENCH_SESSIONS=${N} BENCH_SMALL_SESSIONS=${SMALL} BENCH_ROUNDS=${ROUNDS} BENCH_START_SESSIONS=${START_SESSIONS} BENCH_START_CYCLES=${START_CYCLES} ` +
      `BENCH_START_CONCURRENCY=${START_CONCURRENCY.join(',')} LEASE_TTL_MS=${TTL} (renew every ${Math.max(Math.floor(TTL / 3), 100)} ms) ` +
      `BENCH_GW_POOL_SIZE=${GW_POOL} BENCH_GW_CAPACITY=${GW_CAPACITY} BENCH_SETTLE_MS=${SETTLE_MS} BENCH_POLL_MS=${POLL_MS} ` +
      `WA_CONNECT_CONCURRENCY=${process.env.WA_CONNECT_CONCURRENCY ?? '(default)'}; NATS prefix ${ctx.prefix}, db ${ctx.dbName}`,
  );
  console.table(ctx.rows);
  for (const n of ctx.notes) console.log(`- ${n}`);
}

// --- main --------------------------------------------------------------------------------------

async function main() {
  ctx.loadAtStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  await admin(`CREATE DATABASE "${ctx.dbName}"`);
  ctx.dbCreated = true;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${ctx.dbName}`;
  ctx.dbUrl = dbUrl.toString();
  execFileSync(process.execPath, ['apps/api/dist/migrate.js'], {
    env: { PATH: process.env.PATH, DATABASE_URL: ctx.dbUrl, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  ctx.apiKey = cliCreateApiKey({ DATABASE_URL: ctx.dbUrl });
  ctx.pool = new pg.Pool({
    connectionString: ctx.dbUrl,
    max: Math.max(...START_CONCURRENCY) + 3,
    application_name: 'wagw-bench',
  });
  ctx.pgVersion = (await ctx.pool.query('SHOW server_version')).rows[0].server_version;
  ctx.pgMon = startPgMonitor();

  ctx.nc = await connect({ servers: NATS_URL, name: 'wagw-fleet-bench' });
  ctx.natsVersion = ctx.nc.info?.version;
  ctx.nc.subscribe(`${ctx.prefix}.v1.events.session.status`, {
    callback: (err, msg) => {
      if (err) return;
      const t = performance.now();
      const wall = Date.now();
      let ev;
      try {
        ev = msg.json();
      } catch {
        return;
      }
      for (const fn of ctx.statusListeners) fn(ev, t, wall);
    },
  });
  ctx.jsm = await jetstreamManager(ctx.nc);

  const simPort = await freePort();
  ctx.simProc = runNode('wa-sim', 'apps/wa-sim/dist/main.js', {
    WA_SIM_PORT: String(simPort),
    WA_SIM_HOST: '127.0.0.1',
    WA_SIM_QR_TTL_MS: '60000',
  });
  ctx.simUrl = `http://127.0.0.1:${simPort}`;
  await waitFor('wa-sim ready', async () => {
    if (!ctx.simProc.alive) throw new Error(`wa-sim exited: ${ctx.simProc.output()}`);
    return (await fetch(`${ctx.simUrl}/sim/v1/healthz`)).ok;
  });

  const apiPort = await freePort();
  ctx.apiProc = runNode('api', 'apps/api/dist/main.js', {
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATABASE_URL: ctx.dbUrl,
    NATS_URL,
    NATS_PREFIX: ctx.prefix,
    COMMAND_TIMEOUT_MS: '3000',
    QR_WAIT_MS: '20000',
    // One organization pairs and runs up to 1,000 sessions at once here.
    ORG_MAX_SESSIONS: '100000',
    ORG_MAX_PAIRING: '100000',
  });
  ctx.apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitFor('API ready', async () => {
    if (!ctx.apiProc.alive) throw new Error(`API exited: ${ctx.apiProc.output()}`);
    return (await fetch(`${ctx.apiUrl}/readyz`)).ok;
  });

  // --- pair BENCH_SESSIONS sessions on one gateway (or BENCH_PAIR_GATEWAYS, then one takes all) ---
  const pairers = [];
  for (let k = 0; k < PAIR_GATEWAYS; k++)
    pairers.push(
      await startGateway(
        undefined,
        PAIR_GATEWAYS === 1 ? GW_CAPACITY : Math.ceil(N / PAIR_GATEWAYS),
      ),
    );
  let holder = pairers[0];
  await sleep(2000);
  const firstIdleRss = rssMb(holder.pid);
  log(`pairing ${N} sessions on ${pairers.map((g) => g.id).join(', ')}...`);
  const pairSamplers = pairers.map((g) => sampleGateway(g));
  const pairCpu0 = cpuSnapshot(pairers);
  const { ids, ms: pairMs } = await createAndPair(N);
  await foldDrained();
  const pairStats = mergeSamples(await Promise.all(pairSamplers.map((stop) => stop())));
  pairStats.cpu = cpuShare(pairCpu0, cpuSnapshot(pairers), pairers);
  log(`pairing on ${pairers.map((g) => g.id).join(', ')}: ${JSON.stringify(pairStats)}`);
  log(`paired ${N} in ${Math.round(pairMs)} ms`);
  ctx.notes.push(
    `pairing: ${N} sessions created (start:true), QR read through GET /qr and scanned on wa-sim in ${round(pairMs / 1000, 1)} s (${PAIR_CONCURRENCY} in flight) on ${PAIR_GATEWAYS} gateway(s); ${holder.id} RSS ${firstIdleRss} → ${rssMb(holder.pid)} MB`,
  );
  if (PAIR_GATEWAYS > 1) {
    // One fresh gateway takes every session over from the pairers' graceful hand-over.
    holder = await startGateway();
    const t0 = performance.now();
    const sampleHolder = sampleGateway(holder);
    await Promise.all(pairers.map((g) => g.proc.stop('SIGTERM', 60_000)));
    await assertHeldBy(holder, ids, 60_000 + N * 300);
    const taken = await sampleHolder();
    const msg = `hand-over: ${N} sessions from ${PAIR_GATEWAYS} pairing gateways (SIGTERM) all working on ${holder.id} in ${round((performance.now() - t0) / 1000, 1)} s; self-fenced / lost at renewal there ${taken.selfFenced} / ${taken.lostAtRenewal}, event-loop lag max ${Math.round(taken.loopLagMaxMs)} ms`;
    log(msg);
    ctx.notes.push(msg);
  }

  // --- failover at BENCH_SESSIONS, then claim rate, chained: every round a fresh process takes over ---
  const big = [];
  for (let r = 0; r < (PHASES.has('failover') ? ROUNDS : 0); r++) {
    const { standby, res } = await failover(holder, ids);
    big.push(res);
    log(
      `failover ${N} round ${r + 1}: all working ${Math.round(res.allMs)} ms after SIGKILL (leases expired at ${Math.round(res.leaseExpiredMs)}, first claim ${Math.round(res.firstClaimMs)}, last claim ${Math.round(res.lastClaimMs)}, last working event ${Math.round(res.lastWorkingEventMs)}), bursts ${res.claimBursts.map((b) => `${b.n}@${Math.round(b.start)}`).join(' ')}, cpu ${JSON.stringify(res.cpu)}`,
    );
    holder = standby;
  }
  const claims = [];
  for (let r = 0; r < (PHASES.has('claim') ? ROUNDS : 0); r++) {
    const { fresh, res } = await claimRate(holder, ids);
    claims.push(res);
    log(
      `claim rate round ${r + 1}: ${Math.round(res.rate)} sessions/s (ready ${Math.round(res.readyMs)} ms, first claim ${Math.round(res.firstClaimMs)} ms, all rows ${Math.round(res.allMs)} ms), bursts ${res.claimBursts.map((b) => `${b.n}@${Math.round(b.start)}`).join(' ')}, cpu ${JSON.stringify(res.cpu)}`,
    );
    holder = fresh;
  }

  // --- failover at BENCH_SMALL_SESSIONS ---
  const small = [];
  if (SMALL < N && PHASES.has('small')) {
    await stopSessions(ids.slice(SMALL));
    const smallIds = ids.slice(0, SMALL);
    for (let r = 0; r < ROUNDS; r++) {
      const { standby, res } = await failover(holder, smallIds);
      small.push(res);
      log(
        `failover ${SMALL} round ${r + 1}: all working ${Math.round(res.allMs)} ms after SIGKILL (leases expired at ${Math.round(res.leaseExpiredMs)}, first claim ${Math.round(res.firstClaimMs)})`,
      );
      holder = standby;
    }
    await stopSessions(smallIds);
  } else {
    await stopSessions(ids);
  }
  ctx.holder = holder;

  // --- :start latency of paired sessions ---
  const sample = ids.slice(0, START_SESSIONS);
  const latency = new Map();
  if (PHASES.has('start'))
    for (const c of START_CONCURRENCY) latency.set(c, await startLatency(sample, c));

  const evictionsEnd = (await sim('GET', '/sim/v1/connections')).body.evictions;

  // --- the table ---
  const lte = (t) => (v) => v <= t;
  row(
    `pairing ${N} (waves of ${PAIR_WAVE}: create start:true, GET /qr, scan; ${PAIR_CONCURRENCY} in flight): s`,
    [pairMs / 1000],
  );
  row(
    `  leases self-fenced / lost at renewal on the pairing gateway(s) while pairing`,
    [pairStats.selfFenced],
    {
      target: '0',
      ok: (v) => v === 0,
      digits: 0,
    },
  );
  ctx.rows.at(-1).median += ` / ${pairStats.lostAtRenewal}`;
  row(`  renewal while pairing: mean ms (count; max bucket)`, [pairStats.renew?.meanS * 1000], {
    digits: 1,
  });
  ctx.rows.at(-1).median +=
    ` (${pairStats.renew?.count}; ≤ ${pairStats.renew?.maxBucketS * 1000} ms)`;
  row(`  gateway event-loop lag max while pairing (ms)`, [pairStats.loopLagMaxMs], { digits: 0 });
  row(`  stale-QR scan retries`, [ctx.pairRetries], { digits: 0 });
  row(`  gateway event backlog max while pairing (events)`, [pairStats.eventsPendingMax], {
    digits: 0,
  });
  row(`  CPU while pairing: fleet % / other processes %`, [pairStats.cpu.total], { digits: 0 });
  ctx.rows.at(-1).median +=
    ` / ${pairStats.cpu.others} (gateway ${pairers.map((g) => pairStats.cpu[g.id]).join(' + ')}, api ${pairStats.cpu.api}, postgres ${pairStats.cpu.postgres})`;
  for (const [c, cycles] of latency) {
    const tag = c === 1 ? 'sequential' : `${c} concurrent`;
    row(
      `:start→working p50 (ms), ${tag}, ${START_SESSIONS} paired × ${START_CYCLES}`,
      cycles.map((x) => x.p50),
      { target: '≤ 10', ok: lte(10) },
    );
    row(
      `:start→working p99 (ms), ${tag}`,
      cycles.map((x) => x.p99),
      { target: '≤ 50', ok: lte(50) },
    );
    row(
      `  :start→working max (ms)`,
      cycles.map((x) => x.max),
    );
    row(
      `  :start HTTP response p50 / p99 (ms)`,
      cycles.map((x) => x.respP50),
      { pick: median },
    );
    ctx.rows.at(-1).median += ` / ${round(median(cycles.map((x) => x.respP99)), 1)}`;
    row(
      `  :start→claimed on the gateway p50 (ms, gateway clock)`,
      cycles.map((x) => x.claimedP50),
    );
    row(
      `  :start→connection open on the gateway p50 (ms, gateway clock)`,
      cycles.map((x) => x.openP50),
    );
    row(
      `  :start→working event on NATS p50 / p99 (ms)`,
      cycles.map((x) => x.eventP50),
    );
    ctx.rows.at(-1).median += ` / ${round(median(cycles.map((x) => x.eventP99)), 1)}`;
    row(
      `  fold: working event → row shows it p50 (ms)`,
      cycles.map((x) => x.foldP50),
    );
    row(
      `  row polls per :start (after the event)`,
      cycles.map((x) => x.pollsPerStart),
    );
    row(
      `  gateway event-loop lag max during the starts (ms)`,
      cycles.map((x) => x.sampled.loopLagMaxMs),
      { digits: 0 },
    );
    row(
      `  CPU during the starts: fleet % / other processes %`,
      cycles.map((x) => x.cpu.total),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${median(cycles.map((x) => x.cpu.others))}`;
  }
  const failRows = (label, res) => {
    if (res.length === 0) return;
    row(
      `failover ${label}: SIGKILL→all rows working (ms)`,
      res.map((x) => x.allMs),
      { target: `≤ ${FAILOVER_TARGET_MS} (TTL+2s)`, ok: lte(FAILOVER_TARGET_MS), digits: 0 },
    );
    row(
      `  per-session p50 (ms)`,
      res.map((x) => x.p50Ms),
      { digits: 0 },
    );
    row(
      `  last lease expiry after SIGKILL (ms)`,
      res.map((x) => x.leaseExpiredMs),
      { digits: 0 },
    );
    row(
      `  first claim / last claim (ms, gateway clock)`,
      res.map((x) => x.firstClaimMs),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${Math.round(median(res.map((x) => x.lastClaimMs)))}`;
    row(
      `  per session claim→connection open on the gateway p50 / max (ms)`,
      res.map((x) => median(x.connectMs)),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${Math.round(median(res.map((x) => Math.max(...x.connectMs))))}`;
    row(
      `  last connection open on the gateway (ms, gateway clock)`,
      res.map((x) => x.lastOpenOnGatewayMs),
      { digits: 0 },
    );
    row(
      `  last working event received on NATS (ms)`,
      res.map((x) => x.lastWorkingEventMs),
      { digits: 0 },
    );
    row(
      `  fold tail: last row − last event (ms)`,
      res.map((x) => x.foldTailMs),
      { digits: 0 },
    );
    row(
      `  working event publish lag p50 / max (ms)`,
      res.map((x) => x.publishLagP50),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${Math.round(median(res.map((x) => x.publishLagMax)))}`;
    row(
      `  claim bursts (count)`,
      res.map((x) => x.claimBursts.length),
      { digits: 0 },
    );
    row(
      `  gateway event backlog max (events not yet acked by JetStream)`,
      res.map((x) => x.sampled.eventsPendingMax),
      { digits: 0 },
    );
    row(
      `  JetStream publish rate / fold rate (events/s)`,
      res.map((x) => x.pipeline.publish.perS),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${Math.round(median(res.map((x) => x.pipeline.fold.perS)))}`;
    row(
      `  new holder CPU: peak 200 ms bin % / bins ≥ 90 % (of bins)`,
      res.map((x) => x.timeline.gateway.peak),
      { digits: 0 },
    );
    ctx.rows.at(-1).median +=
      ` / ${median(res.map((x) => x.timeline.gateway.busyBins))} (of ${median(res.map((x) => x.timeline.gateway.bins))})`;
    row(
      `  API CPU (fold): peak 200 ms bin % / bins ≥ 90 %`,
      res.map((x) => x.timeline.api.peak),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${median(res.map((x) => x.timeline.api.busyBins))}`;
    row(
      `  new holder event-loop lag max during takeover (ms)`,
      res.map((x) => x.sampled.loopLagMaxMs),
      { digits: 0 },
    );
    row(
      `  leases self-fenced on the new holder`,
      res.map((x) => x.sampled.selfFenced + x.sampled.lostAtRenewal),
      { target: '0', ok: (v) => v === 0, digits: 0, pick: (v) => Math.max(...v) },
    );
    row(
      `  Postgres connections of the new holder (max sampled, both pools)`,
      res.map((x) => x.pgMax),
      {
        target: `≤ ${GW_POOL} + 2`,
        ok: lte(GW_POOL + 2),
        digits: 0,
        pick: (v) => Math.max(...v),
      },
    );
    row(
      `  auth-state rows written during the takeover (fenced upserts/deletes)`,
      res.map((x) => x.authWrites),
      { digits: 0 },
    );
    row(
      `  auth-state rows written per second of the takeover`,
      res.map((x) => x.authWritesPerS),
      { digits: 0 },
    );
    row(
      `  new holder's CPU per reconnect (ms: claim, login, auth state)`,
      res.map((x) => x.cpuPerReconnectMs),
    );
    row(
      `  sim evictions during failover`,
      res.map((x) => x.evictions),
      { target: '0', ok: (v) => v === 0, digits: 0, pick: (v) => Math.max(...v) },
    );
  };
  failRows(`${SMALL} sessions`, small);
  failRows(`${N} sessions`, big);
  if (big.length) {
    const ren = (k) => big.map((x) => x[k].meanS * 1000);
    row(`  renewal (${N} leases) mean ms, steady`, ren('renewSteady'), { digits: 2 });
    ctx.rows.at(-1).median +=
      ` (p99 bucket ≤ ${median(big.map((x) => x.renewSteady.p99S * 1000))} ms)`;
    row(`  renewal mean ms, during the takeover`, ren('renewBurst'), { digits: 2 });
    ctx.rows.at(-1).median +=
      ` (max bucket ≤ ${median(big.map((x) => x.renewBurst.maxBucketS * 1000))} ms)`;
    row(
      `  CPU during failover ${N}: fleet % (2 cores = 200)`,
      big.map((x) => x.cpu.total),
      { digits: 0 },
    );
    const cpuParts = ['postgres', 'api', 'nats', 'sim', 'bench', 'others'].map(
      (k) => `${k === 'postgres' ? 'postgres (our db)' : k} ${median(big.map((x) => x.cpu[k]))}`,
    );
    ctx.rows.at(-1).median +=
      ` (gateway ${median(big.map((x) => x.cpuGateway))}, ${cpuParts.join(', ')})`;
  }
  if (claims.length) {
    row(
      `claim rate from a ${N} backlog (sessions/s, first claim→all rows)`,
      claims.map((x) => x.rate),
      { digits: 0 },
    );
    row(
      `  same, gateway side: first claim→last connection open (sessions/s)`,
      claims.map((x) => x.gatewayRate),
      { digits: 0 },
    );
    row(
      `  same, first claim→all working events received (sessions/s)`,
      claims.map((x) => x.eventRate),
      { digits: 0 },
    );
    row(
      `  JetStream publish rate / fold rate (events/s)`,
      claims.map((x) => x.pipeline.publish.perS),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${Math.round(median(claims.map((x) => x.pipeline.fold.perS)))}`;
    row(
      `  spawn→ready / spawn→all rows working (ms)`,
      claims.map((x) => x.readyMs),
      { digits: 0 },
    );
    ctx.rows.at(-1).median += ` / ${Math.round(median(claims.map((x) => x.allMs)))}`;
    row(
      `  claim bursts (count)`,
      claims.map((x) => x.claimBursts.length),
      { digits: 0 },
    );
    row(
      `  gateway CPU: peak 200 ms bin % / bins ≥ 90 % (of bins)`,
      claims.map((x) => x.timeline.gateway.peak),
      { digits: 0 },
    );
    ctx.rows.at(-1).median +=
      ` / ${median(claims.map((x) => x.timeline.gateway.busyBins))} (of ${median(claims.map((x) => x.timeline.gateway.bins))})`;
    row(
      `  event-loop lag max / leases self-fenced while claiming`,
      claims.map((x) => x.sampled.loopLagMaxMs),
      { digits: 0 },
    );
    ctx.rows.at(-1).median +=
      ` / ${Math.max(...claims.map((x) => x.sampled.selfFenced + x.sampled.lostAtRenewal))}`;
  }
  if (big.length) {
    row(
      `gateway idle RSS (MB)`,
      big.map((x) => x.idleRss),
    );
    row(
      `gateway RSS, ${N} working, at takeover / settled ${SETTLE_MS / 1000}s (MB)`,
      big.map((x) => x.rssAll),
    );
    ctx.rows.at(-1).median += ` / ${median(big.map((x) => x.rssSettled))}`;
    row(
      `gateway RSS per working session above idle, settled (MB)`,
      big.map((x) => (x.rssSettled - x.idleRss) / N),
      { target: '≤ 10 (WAHA: ~80)', ok: lte(10), digits: 2 },
    );
    row(
      `  same, at takeover (MB)`,
      big.map((x) => (x.rssAll - x.idleRss) / N),
      { digits: 2 },
    );
    row(
      `  JS heap used idle → ${N} settled (MB)`,
      big.map((x) => x.heapIdleMb),
    );
    ctx.rows.at(-1).median += ` → ${round(median(big.map((x) => x.heapMb)), 1)}`;
    row(
      `Postgres connections per gateway holding ${N} (max sampled, both pools)`,
      big.map((x) => x.pgMax),
      {
        target: `≤ ${GW_POOL} + 2 (DB_POOL_SIZE + lease pool)`,
        ok: lte(GW_POOL + 2),
        digits: 0,
        pick: (v) => Math.max(...v),
      },
    );
    ctx.rows.at(-1).median += ' (max)';
    if (claims.length) {
      row(
        `  same, gateway claiming a ${N} backlog`,
        claims.map((x) => x.pgMax),
        {
          target: `≤ ${GW_POOL} + 2`,
          ok: lte(GW_POOL + 2),
          digits: 0,
          pick: (v) => Math.max(...v),
        },
      );
      ctx.rows.at(-1).median += ' (max)';
    }
    row(
      `  leases lost on the new holder (count)`,
      big.map((x) => x.leasesLost),
      { target: '0', ok: (v) => v === 0, digits: 0, pick: (v) => Math.max(...v) },
    );
  }
  row(`wa-sim evictions, whole run`, [evictionsEnd.length], {
    target: '0',
    ok: (v) => v === 0,
    digits: 0,
  });
  if (big.length) {
    ctx.notes.push(
      `claim bursts of the ${N} failovers (size@ms after SIGKILL, gateway clock): ${big.map((x) => x.claimBursts.map((b) => `${b.n}@${Math.round(b.start)}`).join(' ')).join(' | ')}`,
    );
    ctx.notes.push(
      `sim connections after each ${N} failover: new holder ${big.map((x) => x.onStandby).join('/')}, killed holder ${big.map((x) => x.onHolder).join('/')}`,
    );
    ctx.notes.push(
      `CPU % during each ${N} failover (SIGKILL → all rows working): ${big.map((x) => JSON.stringify(x.cpu)).join(' | ')}`,
    );
  }
  if (claims.length) {
    ctx.notes.push(
      `claim bursts of the backlog claims (size@ms after spawn, gateway clock): ${claims.map((x) => x.claimBursts.map((b) => `${b.n}@${Math.round(b.start)}`).join(' ')).join(' | ')}`,
    );
    ctx.notes.push(
      `CPU % during each backlog claim (spawn → all rows working): ${claims.map((x) => JSON.stringify(x.cpu)).join(' | ')}`,
    );
  }
  if (evictionsEnd.length) ctx.notes.push(`EVICTIONS: ${JSON.stringify(evictionsEnd.slice(0, 5))}`);
  ctx.notes.push(
    `LEASE_TTL_MS=${TTL}: ${TTL === 3000 ? 'the setting ARCHITECTURE.md measured (renew every TTL/3 = 1 s, self-fence margin TTL/3 = 1 s); ' : ''}a killed holder's leases expire between TTL−TTL/3 and TTL after the kill, and a standby claims at its next claim tick (every TTL/3), so ~TTL is the floor of any failover.`,
  );
  ctx.notes.push(
    `":start→working" is timed from just before the HTTP request to the first read of the row showing working; the row is read back to back from the moment this process receives the gateway's working event (core NATS subscription on the stream's subject: the row cannot change before it). Failover rows are polled every ${POLL_MS} ms.`,
  );
}

async function cleanup() {
  killAllChildren();
  await ctx.pgMon?.stop().catch(() => undefined);
  await ctx.pool?.end().catch(() => undefined);
  if (ctx.nc) {
    try {
      const jsm = ctx.jsm ?? (await jetstreamManager(ctx.nc));
      for await (const s of jsm.streams.list())
        if (s.config.name.startsWith(ctx.prefix.toUpperCase()))
          await jsm.streams.delete(s.config.name);
    } catch (e) {
      log(`could not delete streams of ${ctx.prefix}: ${e.message}`);
    }
    await ctx.nc.close().catch(() => undefined);
  }
  if (ctx.dbCreated)
    await admin(`DROP DATABASE IF EXISTS "${ctx.dbName}" WITH (FORCE)`).catch((e) =>
      log(`could not drop ${ctx.dbName}: ${e.message}`),
    );
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    interrupted = true;
    log(`${sig}: cleaning up`);
    killAllChildren();
    cleanup().finally(() => process.exit(130));
  });
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(e);
  for (const p of [ctx.apiProc, ctx.simProc, ...ctx.gatewayProcs])
    if (p) console.error(`--- ${p.name} output (tail) ---\n${p.output().slice(-4000)}`);
} finally {
  if (!interrupted) {
    printReport();
    await cleanup();
  }
}
process.exit(failed ? 1 : 0);
