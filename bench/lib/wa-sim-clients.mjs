// One client process of the wa-sim benchmark (forked by bench/wa-sim.bench.mjs): real Baileys
// 7.0.0-rc14 sockets for a slice of the benchmark's devices, driven over IPC. Several such
// processes share the load, so no single event loop runs a thousand sockets' handshakes,
// keep-alives and timers (one process doing all of them starved its own keep-alives: 408).
//
// Commands (process.send / 'message'): { cmd: 'link' } → { linked, retries }
//   { cmd: 'login' } → { latencies, retries }   { cmd: 'status' } → { open, closeCodes }
//   { cmd: 'close' } → { closed } and the process exits.
import { WaSimControlClient } from '@wagw/wa-sim';
import makeWASocket, {
  Curve,
  INITIAL_PREKEY_COUNT,
  initAuthCreds,
  WA_CERT_DETAILS,
} from '@whiskeysockets/baileys';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { memoryAuth as sharedMemoryAuth } from './memory-auth.mjs';
import { pMap } from './stats.mjs';
import { outcome } from './baileys-outcome.mjs';

const { webUrl, controlUrl, rootKey, phones, linkConcurrency, loginConcurrency, name } = JSON.parse(
  process.env.BENCH_SIM_CLIENT_CONFIG,
);
const logger = pino({ level: 'silent' });
const log = (msg) => console.error(`[bench:sim ${name}] ${msg}`);
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(rootKey, 'base64');
const control = new WaSimControlClient(controlUrl);

/**
 * Client-side shortcut, the sim does not see it: Baileys generates 812 one-time prekeys for a
 * new device at its first login (~0.5 s of CPU in the client process). Every bench device gets
 * the same pre-generated set instead; each still uploads all 812 to the sim.
 */
const SHARED_PREKEYS = Object.fromEntries(
  Array.from({ length: INITIAL_PREKEY_COUNT }, (_, i) => [`${i + 1}`, Curve.generateKeyPair()]),
);

function memoryAuth() {
  const data = new Map();
  for (const [id, pair] of Object.entries(SHARED_PREKEYS)) data.set(`pre-key:${id}`, pair);
  const creds = initAuthCreds();
  creds.nextPreKeyId = INITIAL_PREKEY_COUNT + 1;
  creds.firstUnuploadedPreKeyId = 1;
  return sharedMemoryAuth(creds, data);
}

function socket(auth, clientId) {
  return makeWASocket({
    waWebSocketUrl: `${webUrl}?clientId=${clientId}`,
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

const devices = phones.map((phone) => ({ phone, auth: memoryAuth() }));
const live = [];
/** How logged-in clients ended before the benchmark closed them (should stay empty). */
const closeCodes = {};
let closing = false;

async function link() {
  let retries = 0;
  await pMap(devices, linkConcurrency, async (d) => {
    // On a loaded machine a handshake can outlast the sim's limit (10 s): that attempt ends
    // with 428 and is retried with fresh credentials (counted).
    for (let attempt = 1; ; attempt++) {
      const pairing = socket(d.auth, `link-${d.phone}`);
      const paired = await outcome(pairing, (qr) => {
        control.scanQr(qr, d.phone).catch((err) => log(`scan ${d.phone}: ${err.message}`));
      });
      if (paired === 515) break;
      if (attempt === 3) throw new Error(`${d.phone}: pairing ended with ${paired}`);
      retries++;
      d.auth = memoryAuth();
    }
    // First login: uploads the 812 prekeys, as a new companion does.
    const first = socket(d.auth, `first-${d.phone}`);
    const opened = await outcome(first);
    if (opened !== 'open') throw new Error(`${d.phone}: first login ended with ${opened}`);
    const closed = outcome(first);
    first.end(undefined);
    await closed;
  });
  return { linked: devices.length, retries };
}

async function login() {
  const latencies = [];
  let retries = 0;
  await pMap(devices, loginConcurrency, async (d) => {
    for (let attempt = 1; ; attempt++) {
      const t0 = performance.now();
      const sock = socket(d.auth, `bench-${d.phone}`);
      const result = await outcome(sock);
      if (result === 'open') {
        latencies.push(performance.now() - t0);
        const closed = outcome(sock);
        void closed.then((code) => {
          if (closing) return;
          closeCodes[code] = (closeCodes[code] ?? 0) + 1;
          if (closeCodes[code] === 1) log(`a logged-in client ended with ${code}`);
        });
        live.push({ sock, closed });
        return;
      }
      if (attempt === 3) throw new Error(`${d.phone}: login ended with ${result}`);
      log(`${d.phone}: login ended with ${result}, retrying`);
      retries++;
    }
  });
  return { latencies, retries };
}

async function status() {
  let open = 0;
  for (const l of live) {
    const r = await Promise.race([l.closed, new Promise((ok) => setImmediate(() => ok('open')))]);
    if (r === 'open') open++;
  }
  return { open, closeCodes };
}

async function close() {
  closing = true;
  await Promise.all(
    live.map(async (l) => {
      l.sock.end(undefined);
      await l.closed;
    }),
  );
  return { closed: live.length };
}

const commands = { link, login, status, close };
process.on('message', async ({ cmd }) => {
  try {
    process.send({ cmd, ok: true, result: await commands[cmd]() });
    if (cmd === 'close') process.disconnect();
  } catch (err) {
    process.send({ cmd, ok: false, error: String(err?.stack ?? err) });
  }
});
process.send({ cmd: 'ready', ok: true });
