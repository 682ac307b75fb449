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
// Options (env): BENCH_SIM_DEVICES=1000 BENCH_SIM_CLIENT_PROCS=4 BENCH_SIM_LINK_CONCURRENCY=8
//   BENCH_SIM_LOGIN_CONCURRENCY=16 BENCH_SIM_HOLD_MS=10000 (concurrencies are totals, split
//   over the client processes)
//
// The clients are real Baileys sockets in BENCH_SIM_CLIENT_PROCS processes of their own
// (bench/lib/wa-sim-clients.mjs), and they cost far more CPU than the sim: each handshake
// verifies the certificate chain with Baileys' pure-JS curve (~60 ms), each link signs and
// verifies ADV identities (~130 ms). Latencies therefore include client-side queueing; the CPU
// rows show who spent what.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WaSimControlClient } from '@wagw/wa-sim';
import {
  cpuSeconds,
  killAllChildren,
  rssMb,
  sleep,
  waitFor,
  startSimProcess,
} from './lib/procs.mjs';
import { envInt } from './lib/services.mjs';
import { percentile, round } from './lib/stats.mjs';

const DEVICES = envInt('BENCH_SIM_DEVICES', 1000);
const CLIENT_PROCS = Math.max(1, Math.min(DEVICES, envInt('BENCH_SIM_CLIENT_PROCS', 4)));
const LINK_CONCURRENCY = Math.max(1, envInt('BENCH_SIM_LINK_CONCURRENCY', 8));
const LOGIN_CONCURRENCY = Math.max(1, envInt('BENCH_SIM_LOGIN_CONCURRENCY', 16));
const HOLD_MS = envInt('BENCH_SIM_HOLD_MS', 10_000);
const log = (msg) => console.error(`[bench:sim] ${msg}`);

/** A forked client process and a request/answer call over its IPC channel. */
function startClients(name, config) {
  const child = fork(new URL('./lib/wa-sim-clients.mjs', import.meta.url), [], {
    env: { ...process.env, BENCH_SIM_CLIENT_CONFIG: JSON.stringify({ ...config, name }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.cmd);
    waiting.delete(m.cmd);
    if (!w) return;
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(`${name} ${m.cmd}: ${m.error}`));
  });
  child.once('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`${name} exited with ${code}`));
    waiting.clear();
  });
  const expect = (cmd) => new Promise((resolve, reject) => waiting.set(cmd, { resolve, reject }));
  const ready = expect('ready');
  return {
    pid: child.pid,
    ready,
    call(cmd) {
      const answer = expect(cmd);
      child.send({ cmd });
      return answer;
    },
    kill: () => child.exitCode === null && child.kill('SIGKILL'),
  };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-sim-bench-'));
  const started = await startSimProcess(dataDir, { NODE_OPTIONS: '--expose-gc' });
  const sim = started.proc;
  let clients = [];
  try {
    const control = new WaSimControlClient(started.controlUrl);
    // Each client process gets a slice of the devices and its share of the concurrency.
    const phones = Array.from({ length: DEVICES }, (_, i) => String(6281300000000 + i));
    const share = (total) => Math.max(1, Math.round(total / CLIENT_PROCS));
    const rootKey = (await control.rootKey()).publicKey;
    clients = Array.from({ length: CLIENT_PROCS }, (_, k) =>
      startClients(`clients-${k + 1}`, {
        webUrl: started.webUrl,
        controlUrl: started.controlUrl,
        rootKey,
        phones: phones.filter((_, i) => i % CLIENT_PROCS === k),
        linkConcurrency: share(LINK_CONCURRENCY),
        loginConcurrency: share(LOGIN_CONCURRENCY),
      }),
    );
    await Promise.all(clients.map((c) => c.ready));
    const all = (cmd) => Promise.all(clients.map((c) => c.call(cmd)));
    const clientCpu = () => clients.reduce((sum, c) => sum + cpuSeconds(c.pid), 0);
    const cpu = () => ({ sim: cpuSeconds(sim.pid), clients: clientCpu() });
    const cpuSpent = (before) =>
      `sim ${round(cpuSeconds(sim.pid) - before.sim, 1)} s, ` +
      `clients ${round(clientCpu() - before.clients, 1)} s`;

    // 1. Link every device by QR, then its first login (812 prekeys uploaded).
    const linkStart = performance.now();
    const linkCpu = cpu();
    const progress = setInterval(
      async () => log(`linked ${(await control.devices()).length}/${DEVICES}`),
      15_000,
    );
    const linkedBy = await all('link').finally(() => clearInterval(progress));
    const linkRetries = linkedBy.reduce((n, r) => n + r.retries, 0);
    const linkS = (performance.now() - linkStart) / 1000;
    const linkCpuText = cpuSpent(linkCpu);
    await waitFor('no live connection', async () => (await control.healthz()).linked === 0);
    await sleep(2_000);
    await control.healthz({ gc: true });
    const baseline = await control.healthz({ gc: true });
    const baselineRss = rssMb(sim.pid);

    // 2. Log everyone in at once.
    const loginStart = performance.now();
    const loginCpu = cpu();
    const loginProgress = setInterval(
      async () => log(`logged in ${(await control.healthz()).linked}/${DEVICES}`),
      15_000,
    );
    const loggedIn = await all('login').finally(() => clearInterval(loginProgress));
    const latencies = loggedIn.flatMap((r) => r.latencies);
    const loginRetries = loggedIn.reduce((n, r) => n + r.retries, 0);
    const loginS = (performance.now() - loginStart) / 1000;
    const loginCpuText = cpuSpent(loginCpu);

    // 3. Hold, then memory and survivors.
    await sleep(HOLD_MS);
    const held = await control.healthz({ gc: true });
    const heldRss = rssMb(sim.pid);
    const perConnection = held.linked > 0 ? held.linked : DEVICES;
    const connections = await control.connections();
    const statuses = await all('status');
    const open = statuses.reduce((n, s) => n + s.open, 0);
    const dropped = latencies.length - open;
    const closeCodes = {};
    for (const s of statuses)
      for (const [code, n] of Object.entries(s.closeCodes))
        closeCodes[code] = (closeCodes[code] ?? 0) + n;
    const perConnKb = (bytes) => round(bytes / 1024 / perConnection, 1);
    const rows = [
      [
        'devices linked (QR → 515 → first login)',
        `${DEVICES} in ${round(linkS, 1)} s (${round(DEVICES / linkS, 1)}/s, ${LINK_CONCURRENCY} at a time, ${linkRetries} retried)`,
      ],
      [
        'client processes (real Baileys sockets)',
        `${CLIENT_PROCS} (${Math.ceil(DEVICES / CLIENT_PROCS)} devices each)`,
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
      ['logged-in clients ended early, by code', JSON.stringify(closeCodes)],
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

    await all('close');
    if (dropped > 0 || held.linked !== DEVICES) process.exitCode = 1;
  } finally {
    for (const c of clients) c.kill();
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
