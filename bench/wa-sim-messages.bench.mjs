// wa-sim messaging benchmark: messages relayed per second by the simulated network's WhatsApp Web
// side, with real Signal on both ends — the real Baileys 7.0.0-rc14 client as the companions (in
// this process), the built sim (`apps/wa-sim/dist/main.js`) in its own process playing the phones.
//
//   npm run build && node bench/wa-sim-messages.bench.mjs
//
// Links BENCH_MSG_DEVICES companions by QR, logs them in, gives each BENCH_MSG_PHONES simulated
// phones to talk to, then four timed phases, one text per (companion, phone) pair each:
//   1. phone → companion, first contact: `POST /sim/v1/messages` (the sim Signal-encrypts a
//      `pkmsg` with the companion's uploaded prekeys), done when every one is a `messages.upsert`;
//   2. companion → phone: `sock.sendMessage` (usync, bundles, the peer's copy and the device-sent
//      copy for the account's phone, both decrypted by the sim), done when every one is
//      `delivered` (`messages.update` status 3);
//   3. and 4. the same again, on the established sessions (`msg`).
// Prints messages per second for each phase (end to end: the companions' Baileys shares the
// machine's cores with the sim) and the CPU seconds per 1,000 messages of the sim and of the
// companions (this process).
//
// Options (env): BENCH_MSG_DEVICES=20 BENCH_MSG_PHONES=25 BENCH_MSG_CONCURRENCY=64
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaSimControlClient } from '@wagw/wa-sim';
import makeWASocket, { WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import { memoryAuth } from './lib/memory-auth.mjs';
import { pino } from 'pino';
import { cpuSeconds, killAllChildren, startSimProcess } from './lib/procs.mjs';
import { envInt } from './lib/services.mjs';
import { pMap, round } from './lib/stats.mjs';
import { outcome } from './lib/baileys-outcome.mjs';

const DEVICES = Math.max(1, envInt('BENCH_MSG_DEVICES', 20));
const PHONES = Math.max(1, envInt('BENCH_MSG_PHONES', 25));
const CONCURRENCY = Math.max(1, envInt('BENCH_MSG_CONCURRENCY', 64));
const logger = pino({ level: 'silent' });
const log = (msg) => console.error(`[bench:sim-messages] ${msg}`);

/** Baileys' auth state in memory. */
function socket(url, auth) {
  const sock = makeWASocket({
    waWebSocketUrl: url,
    auth,
    logger,
    connectTimeoutMs: 60_000,
    defaultQueryTimeoutMs: 60_000,
    markOnlineOnConnect: false,
    fireInitQueries: true,
    shouldSyncHistoryMessage: () => false,
  });
  sock.ev.on('creds.update', (u) => Object.assign(auth.creds, u));
  return sock;
}

/** Counts texts arriving at the companions and statuses of what they sent, until `expected`. */
class Tally {
  constructor() {
    this.received = new Set();
    this.delivered = new Set();
    this.waiter = null;
  }
  watch(sock) {
    sock.ev.on('messages.upsert', ({ messages }) => {
      for (const m of messages) {
        const text = m.message?.conversation ?? m.message?.extendedTextMessage?.text;
        if (!m.key.fromMe && text?.startsWith('bench ')) this.received.add(text);
        if (m.key.fromMe && (m.status ?? 0) >= 3) this.delivered.add(m.key.id);
      }
      this.check();
    });
    sock.ev.on('messages.update', (updates) => {
      for (const u of updates) if ((u.update.status ?? 0) >= 3) this.delivered.add(u.key.id);
      this.check();
    });
  }
  until(done, describe) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`phase timed out: ${describe()}`)),
        envInt('BENCH_MSG_PHASE_TIMEOUT_MS', 300_000),
      );
      this.waiter = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
      this.check();
    });
  }
  check() {
    this.waiter?.();
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-sim-msg-bench-'));
  const started = await startSimProcess(dataDir);
  const sim = started.proc;
  try {
    const control = new WaSimControlClient(started.controlUrl);
    WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from((await control.rootKey()).publicKey, 'base64');
    const url = started.webUrl;
    const tally = new Tally();

    const devices = Array.from({ length: DEVICES }, (_, i) => ({
      phone: String(6281400000000 + i),
      auth: memoryAuth(),
      sock: null,
    }));
    await pMap(devices, 8, async (d) => {
      const pairing = socket(url, d.auth);
      const paired = await outcome(pairing, (qr) => {
        control.scanQr(qr, d.phone).catch((err) => log(`scan ${d.phone}: ${err.message}`));
      });
      if (paired !== 515) throw new Error(`${d.phone}: pairing ended with ${paired}`);
      d.sock = socket(url, d.auth);
      const opened = await outcome(d.sock);
      if (opened !== 'open') throw new Error(`${d.phone}: login ended with ${opened}`);
      tally.watch(d.sock);
    });
    log(`${DEVICES} companions linked and logged in`);

    const pairs = devices.flatMap((d, i) =>
      Array.from({ length: PHONES }, (_, j) => ({ d, peer: String(6598800000000 + i * 1000 + j) })),
    );
    const rows = [];
    // The sim's own log lines (pino JSON), without libsignal's console chatter.
    const simLog = () =>
      sim
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .slice(-20)
        .join('\n');
    const phase = async (name, run, done, describe) => {
      const cpu0 = cpuSeconds(sim.pid);
      const clientCpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all([run(), tally.until(done, describe)]);
      const s = (performance.now() - t0) / 1000;
      const simCpu = cpuSeconds(sim.pid) - cpu0;
      const clientCpu = process.cpuUsage(clientCpu0);
      const clientS = (clientCpu.user + clientCpu.system) / 1e6;
      rows.push([
        name,
        `${pairs.length} in ${round(s, 2)} s`,
        `${round(pairs.length / s, 0)}/s`,
        `${round((simCpu * 1000) / pairs.length, 1)} s`,
        `${round((clientS * 1000) / pairs.length, 1)} s`,
      ]);
      log(`${name}: ${round(pairs.length / s, 0)}/s`);
    };
    const phoneToCompanion = (round_) => () =>
      pMap(pairs, CONCURRENCY, ({ d, peer }) =>
        control.sendMessage(peer, d.phone, `bench ${round_} ${peer} → ${d.phone}`),
      );
    const sent = new Set();
    const companionToPhone = (round_) => () =>
      pMap(pairs, CONCURRENCY, async ({ d, peer }) => {
        const msg = await d.sock.sendMessage(`${peer}@s.whatsapp.net`, {
          text: `reply ${round_} ${d.phone} → ${peer}`,
        });
        sent.add(msg.key.id);
      });
    const received = (round_) =>
      [...tally.received].filter((t) => t.startsWith(`bench ${round_} `)).length;
    const undelivered = () => [...sent].filter((id) => !tally.delivered.has(id));
    const inbound = (round_) => [
      () => received(round_) === pairs.length,
      () => `${received(round_)}/${pairs.length} received`,
    ];
    const outbound = (round_) => [
      () => sent.size === pairs.length * round_ && undelivered().length === 0,
      () =>
        `${sent.size}/${pairs.length * round_} sent, ${undelivered().length} undelivered ` +
        `(${undelivered().slice(0, 5)}…)\nsim log: ${simLog()}`,
    ];

    await phase('phone → companion, first contact (pkmsg)', phoneToCompanion(1), ...inbound(1));
    await phase('companion → phone, first contact', companionToPhone(1), ...outbound(1));
    await phase('phone → companion, established (msg)', phoneToCompanion(2), ...inbound(2));
    await phase('companion → phone, established', companionToPhone(2), ...outbound(2));

    const head = [
      'phase',
      'messages',
      'relayed per second',
      'sim CPU per 1,000',
      'companions CPU per 1,000',
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(
      `\nwa-sim messages (real Baileys 7.0.0-rc14 companions: ${DEVICES} × ${PHONES} phones, ` +
        `${CONCURRENCY} sends in flight, one machine)`,
    );
    console.log(`  ${line(head)}`);
    for (const r of rows) console.log(`  ${line(r)}`);

    await Promise.all(
      devices.map(async (d) => {
        const closed = outcome(d.sock);
        d.sock.end(undefined);
        await closed;
      }),
    );
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
