// Heap per open Baileys session: the gateway's own Baileys adapter (BaileysConnectionFactory,
// `@wagw/whatsapp-baileys`) against the built wa-sim in its own process, nothing else in this
// process's heap.
//
//   npm run build && node --expose-gc bench/session-heap.bench.mjs    (npm run bench:session-heap)
//
// Prints one table: JS heap per session (after full GCs) with BENCH_SESSIONS connections open,
// (1) on their first login after pairing (the 812 one-time prekeys just generated and uploaded)
// and (2) after every session reconnected once and BENCH_SETTLE_MS passed (a takeover holder's
// steady state; Baileys keeps a closed socket's context for its 30 s prekey-upload timer). The
// auth store here keeps its values in this heap (the gateway keeps them in Postgres): its bytes
// are measured and shown apart.
// Options (env): BENCH_SESSIONS=50 BENCH_SETTLE_MS=35000
import { MemoryAuthStore } from '@wagw/whatsapp';
import { adapterAgainstSim } from './lib/baileys-adapter.mjs';
import { sleep } from './lib/procs.mjs';
import { envInt } from './lib/services.mjs';

const N = Math.max(1, envInt('BENCH_SESSIONS', 50));
const SETTLE_MS = envInt('BENCH_SETTLE_MS', 35_000);
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');

const heapUsed = () => {
  for (let i = 0; i < 4; i++) global.gc();
  return process.memoryUsage().heapUsed;
};

const { open, pair, stop } = await adapterAgainstSim('heap-bench');
try {
  const sessions = [];
  const idle = heapUsed();
  for (let i = 0; i < N; i++) {
    const auth = new MemoryAuthStore();
    await pair(`s${i}`, auth, `62813${String(i).padStart(7, '0')}`);
    const first = await open(`s${i}`, auth);
    await first.listener.until(() => first.listener.seen.opened);
    sessions.push({ auth, ...first });
  }
  await sleep(2_000);
  const rows = [];
  const measure = (phase) => {
    const used = heapUsed() - idle;
    const store = sessions.reduce((n, s) => n + s.auth.size, 0);
    rows.push({
      phase,
      sessions: N,
      'heap per session (KB)': Math.round(used / N / 1024),
      'of which auth-store strings (KB)': Math.round(store / N / 1024),
      'heap per session without them (KB)': Math.round((used - store) / N / 1024),
    });
  };
  measure('first login after pairing');
  for (const [i, s] of sessions.entries()) {
    await s.connection.close();
    Object.assign(s, await open(`s${i}`, s.auth));
    await s.listener.until(() => s.listener.seen.opened);
  }
  await sleep(SETTLE_MS);
  measure(`reconnected, ${SETTLE_MS / 1000} s later`);
  console.log(
    `\nSession heap — Node ${process.version}, BENCH_SESSIONS=${N} BENCH_SETTLE_MS=${SETTLE_MS}`,
  );
  console.table(rows);
  for (const s of sessions) await s.connection.close();
} finally {
  stop();
}
process.exit(0);
