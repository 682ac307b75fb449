// API benchmark: req/s, p50/p99 latency and API memory for GET and POST /api/v1/sessions, with
// API-key and with JWT auth, against the built API process on the machine's real Postgres.
//
//   npm run build && npm run bench            (BENCH_DURATION=10 BENCH_RUNS=3 BENCH_CONNECTIONS=32)
//   npm run build && npm run bench:embedded   the same on `npm start`'s embedded database (PGlite)
//
// Every scenario runs BENCH_RUNS times; the table shows the median run (by req/s) of each.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { cliCreateApiKey, freePort, rssMb } from './lib/procs.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EMBEDDED = process.argv.includes('--embedded');

async function withAdmin(sql) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function main() {
  const dbName = `wagw_bench_${Date.now()}`;
  const dataDir = EMBEDDED ? mkdtempSync(join(tmpdir(), 'wagw-bench-')) : null;
  let env;
  if (dataDir) {
    env = { PATH: process.env.PATH, DATA_DIR: dataDir };
  } else {
    await withAdmin(`CREATE DATABASE "${dbName}"`);
    const dbUrl = new URL(ADMIN_URL);
    dbUrl.pathname = `/${dbName}`;
    env = { PATH: process.env.PATH, DATABASE_URL: dbUrl.toString() };
    execFileSync(process.execPath, ['apps/api/dist/migrate.js'], { env, stdio: 'ignore' });
  }

  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const jwks = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise((r) => jwks.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${jwks.address().port}/jwks`;
  const jwt = await new SignJWT({ org_id: 'org_bench', role: 'owner', sub: 'user_bench' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer('bench-issuer')
    .setAudience('bench-audience')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);

  const port = await freePort();
  const api = spawn(process.execPath, ['apps/api/dist/main.js'], {
    env: {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      AUTH_JWKS_URL: jwksUrl,
      AUTH_ISSUER: 'bench-issuer',
      AUTH_AUDIENCE: 'bench-audience',
      // The POST scenarios create tens of thousands of sessions in one organization.
      ORG_MAX_SESSIONS: '1000000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const key = cliCreateApiKey(env);
  const idleRss = rssMb(api.pid);
  const session = await (
    await fetch(`${base}/api/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"label":"bench"}',
    })
  ).json();

  const scenarios = [
    ['GET /sessions/{id}', 'API key', 'GET', `/api/v1/sessions/${session.id}`, key],
    ['GET /sessions/{id}', 'JWT', 'GET', `/api/v1/sessions/${session.id}`, jwt],
    ['POST /sessions', 'API key', 'POST', '/api/v1/sessions', key],
    ['POST /sessions', 'JWT', 'POST', '/api/v1/sessions', jwt],
  ];
  const rows = [];
  for (const [route, auth, method, path, token] of scenarios) {
    // Warm-up: JIT, pool, caches.
    await autocannon({
      url: base + path,
      method,
      connections: CONNECTIONS,
      duration: 2,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: method === 'POST' ? '{"label":"b"}' : undefined,
    });
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await autocannon({
        url: base + path,
        method,
        connections: CONNECTIONS,
        duration: DURATION,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: method === 'POST' ? '{"label":"b"}' : undefined,
      });
      runs.push({
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        non2xx: r.non2xx + r.errors,
      });
    }
    runs.sort((a, b) => a.rps - b.rps);
    const med = runs[Math.floor(runs.length / 2)];
    rows.push({
      route,
      auth,
      'req/s': Math.round(med.rps),
      'p50 ms': med.p50,
      'p99 ms': med.p99,
      'non-2xx': med.non2xx,
      'API RSS MB': rssMb(api.pid),
      runs: runs.map((r) => Math.round(r.rps)).join(' / '),
    });
  }

  console.log(
    `\nAPI benchmark (${EMBEDDED ? 'embedded PGlite database' : 'Postgres'}) — ${CONNECTIONS} connections, ${DURATION}s x ${RUNS} runs per scenario (median run shown), Node ${process.version}, ${(await import('node:os')).cpus().length} cores`,
  );
  console.log(`API idle RSS: ${idleRss} MB`);
  console.table(rows);
  api.kill('SIGTERM');
  await new Promise((r) => api.once('exit', r));
  jwks.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  else await withAdmin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
