// wa-sim benchmark: the real Baileys 7.0.0-rc14 client against the simulated network's WhatsApp
// Web side (`/ws/chat`), the built sim (`apps/wa-sim/dist/main.js`) in its own process.
//
//   npm run build && npm run bench:sim
//
// 1. links BENCH_SIM_DEVICES (1,000) companions, each by QR through the control API (pair-device
//    → qr:scan → pair-success → pair-device-sign → 515), then its first login (prekey upload);
// 2. logs all of them in again, concurrently (BENCH_SIM_LOGIN_CONCURRENCY handshakes in flight),
//    timing each from `makeWASocket` to `connection: 'open'` (Noise handshake + login + the
//    queries Baileys awaits: prekey count, passive, digest): p50 / p99;
// 3. holds the connections BENCH_SIM_HOLD_MS, checks every one is still open and nothing was
//    evicted, and reads the sim's memory: RSS and heap above its baseline (same devices linked,
//    no connection), per connection.
// Messages relayed per second: `npm run bench:sim-messages` (bench/wa-sim-messages.bench.mjs).
//
// Options (env): BENCH_SIM_DEVICES=1000 BENCH_SIM_LINK_CONCURRENCY=8
//   BENCH_SIM_LOGIN_CONCURRENCY=16 BENCH_SIM_HOLD_MS=10000
//
// The clients are real Baileys sockets in this one process, and they cost far more CPU than the
// sim: each handshake verifies the certificate chain with Baileys' pure-JS curve (~60 ms), each
// link signs and verifies ADV identities (~130 ms). Latencies therefore include client-side
// queueing; the CPU rows show who spent what.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WaSimControlClient } from '@wagw/wa-sim';
import makeWASocket, {
  Curve,
  INITIAL_PREKEY_COUNT,
  initAuthCreds,
  WA_CERT_DETAILS,
} from '@whiskeysockets/baileys';
import { pino } from 'pino';
import {
  cpuSeconds,
  killAllChildren,
  rssMb,
  sleep,
  waitFor,
  startSimProcess,
} from './lib/procs.mjs';
import { envInt } from './lib/services.mjs';
import { memoryAuth as sharedMemoryAuth } from './lib/memory-auth.mjs';
import { percentile, pMap, round } from './lib/stats.mjs';

const DEVICES = envInt('BENCH_SIM_DEVICES', 1000);
const LINK_CONCURRENCY = Math.max(1, envInt('BENCH_SIM_LINK_CONCURRENCY', 8));
const LOGIN_CONCURRENCY = Math.max(1, envInt('BENCH_SIM_LOGIN_CONCURRENCY', 16));
const HOLD_MS = envInt('BENCH_SIM_HOLD_MS', 10_000);
const logger = pino({ level: 'silent' });
const log = (msg) => console.error(`[bench:sim] ${msg}`);

/**
 * Client-side shortcut, the sim does not see it: Baileys generates 812 one-time prekeys for a
 * new device at its first login (~0.5 s of CPU in the client process). Every bench device gets
 * the same pre-generated set instead; each still uploads all 812 to the sim.
 */
const SHARED_PREKEYS = Object.fromEntries(
  Array.from({ length: INITIAL_PREKEY_COUNT }, (_, i) => [`${i + 1}`, Curve.generateKeyPair()]),
);

/** Baileys' auth state in memory. */
function memoryAuth() {
  const data = new Map();
  for (const [id, pair] of Object.entries(SHARED_PREKEYS)) data.set(`pre-key:${id}`, pair);
  const creds = initAuthCreds();
  creds.nextPreKeyId = INITIAL_PREKEY_COUNT + 1;
  creds.firstUnuploadedPreKeyId = 1;
  return sharedMemoryAuth(creds, data);
}

function socket(url, auth, clientId) {
  return makeWASocket({
    waWebSocketUrl: `${url}?clientId=${clientId}`,
    auth,
    logger,
    browser: ['WhatsApp Gateway', 'Chrome', '1.0.0'],
    connectTimeoutMs: 60_000,
    defaultQueryTimeoutMs: 60_000,
    keepAliveIntervalMs: 30_000,
    markOnlineOnConnect: false,
    fireInitQueries: true,
    syncFullHistory: false,
    shouldSyncHistoryMessage: () => false,
  });
}

/** Resolves with 'open' or the close code, whichever comes first. */
function outcome(sock, onQr) {
  return new Promise((resolve) => {
    sock.ev.on('connection.update', (u) => {
      if (u.qr && onQr) onQr(u.qr);
      if (u.connection === 'open') resolve('open');
      if (u.connection === 'close') resolve(u.lastDisconnect?.error?.output?.statusCode ?? -1);
    });
  });
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-sim-bench-'));
  const started = await startSimProcess(dataDir, { NODE_OPTIONS: '--expose-gc' });
  const sim = started.proc;
  try {
    const control = new WaSimControlClient(started.controlUrl);
    WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from((await control.rootKey()).publicKey, 'base64');
    const url = started.webUrl;

    // 1. Link every device by QR, then its first login (812 prekeys uploaded).
    const devices = Array.from({ length: DEVICES }, (_, i) => ({
      phone: String(6281300000000 + i),
      auth: memoryAuth(),
    }));
    const linkStart = performance.now();
    const cpu = () => ({ sim: cpuSeconds(sim.pid), clients: cpuSeconds(process.pid) });
    const cpuSpent = (before) =>
      `sim ${round(cpuSeconds(sim.pid) - before.sim, 1)} s, ` +
      `clients ${round(cpuSeconds(process.pid) - before.clients, 1)} s`;
    const linkCpu = cpu();
    let linked = 0;
    let linkRetries = 0;
    await pMap(devices, LINK_CONCURRENCY, async (d) => {
      // On a loaded machine a handshake can outlast the sim's limit (10 s): that attempt ends
      // with 428 and is retried with fresh credentials (counted in the table).
      for (let attempt = 1; ; attempt++) {
        const pairing = socket(url, d.auth, `link-${d.phone}`);
        const paired = await outcome(pairing, (qr) => {
          control.scanQr(qr, d.phone).catch((err) => log(`scan ${d.phone}: ${err.message}`));
        });
        if (paired === 515) break;
        if (attempt === 3) throw new Error(`${d.phone}: pairing ended with ${paired}`);
        linkRetries++;
        d.auth = memoryAuth();
      }
      const first = socket(url, d.auth, `first-${d.phone}`);
      const opened = await outcome(first);
      if (opened !== 'open') throw new Error(`${d.phone}: first login ended with ${opened}`);
      const closed = outcome(first);
      first.end(undefined);
      await closed;
      if (++linked % 100 === 0) log(`linked ${linked}/${DEVICES}`);
    });
    const linkS = (performance.now() - linkStart) / 1000;
    const linkCpuText = cpuSpent(linkCpu);
    await waitFor('no live connection', async () => (await control.healthz()).linked === 0);
    await sleep(2_000);
    await control.healthz({ gc: true });
    const baseline = await control.healthz({ gc: true });
    const baselineRss = rssMb(sim.pid);

    // 2. Log everyone in at once.
    const latencies = [];
    const live = [];
    const loginStart = performance.now();
    const loginCpu = cpu();
    let loginRetries = 0;
    /** How logged-in clients ended before the bench closed them (should stay empty). */
    const closeCodes = new Map();
    let closing = false;
    await pMap(devices, LOGIN_CONCURRENCY, async (d) => {
      for (let attempt = 1; ; attempt++) {
        const t0 = performance.now();
        const sock = socket(url, d.auth, `bench-${d.phone}`);
        const result = await outcome(sock);
        if (result === 'open') {
          latencies.push(performance.now() - t0);
          const closed = outcome(sock);
          void closed.then((code) => {
            if (closing) return;
            closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
            if (closeCodes.get(code) === 1) log(`a logged-in client ended with ${code}`);
          });
          live.push({ d, sock, closed });
          if (live.length % 100 === 0) log(`logged in ${live.length}/${DEVICES}`);
          return;
        }
        if (attempt === 3) throw new Error(`${d.phone}: login ended with ${result}`);
        log(`${d.phone}: login ended with ${result}, retrying`);
        loginRetries++;
      }
    });
    const loginS = (performance.now() - loginStart) / 1000;
    const loginCpuText = cpuSpent(loginCpu);

    // 3. Hold, then memory and survivors.
    await sleep(HOLD_MS);
    const held = await control.healthz({ gc: true });
    const heldRss = rssMb(sim.pid);
    const perConnection = held.linked > 0 ? held.linked : DEVICES;
    const connections = await control.connections();
    let dropped = 0;
    for (const l of live) {
      const r = await Promise.race([l.closed, sleep(0).then(() => 'open')]);
      if (r !== 'open') dropped++;
    }
    const perConnKb = (bytes) => round(bytes / 1024 / perConnection, 1);
    const rows = [
      [
        'devices linked (QR → 515 → first login)',
        `${DEVICES} in ${round(linkS, 1)} s (${round(DEVICES / linkS, 1)}/s, ${LINK_CONCURRENCY} at a time, ${linkRetries} retried)`,
      ],
      ['CPU while linking', linkCpuText],
      ['CPU while logging in', loginCpuText],
      [
        'concurrent logins (handshake + login → open)',
        `${DEVICES} in ${round(loginS, 1)} s, ${LOGIN_CONCURRENCY} in flight, ${loginRetries} retried`,
      ],
      ['handshake + login p50', `${round(percentile(latencies, 50), 1)} ms`],
      ['handshake + login p99', `${round(percentile(latencies, 99), 1)} ms`],
      [
        'logged-in connections after hold',
        `${held.linked} (sim), ${connections.items.length} listed, dropped ${dropped}, evictions ${connections.evictions.length}`,
      ],
      ['logged-in clients ended early, by code', JSON.stringify(Object.fromEntries(closeCodes))],
      ['sim RSS: baseline → held', `${baselineRss} MB → ${heldRss} MB`],
      [
        'sim memory per connection (RSS)',
        `${round(((heldRss - baselineRss) * 1024) / perConnection, 1)} KB`,
      ],
      [
        'sim memory per connection (heap + buffers)',
        `${perConnKb(
          held.memory.heapUsedBytes +
            held.memory.externalBytes -
            baseline.memory.heapUsedBytes -
            baseline.memory.externalBytes,
        )} KB (after GC)`,
      ],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(`\nwa-sim benchmark (real Baileys 7.0.0-rc14 clients, ${DEVICES} devices)`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);

    closing = true;
    await Promise.all(
      live.map(async (l) => {
        l.sock.end(undefined);
        await l.closed;
      }),
    );
    if (dropped > 0 || held.linked !== DEVICES) process.exitCode = 1;
  } finally {
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.on('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});
main().catch((err) => {
  console.error(err);
  killAllChildren();
  process.exit(1);
});
