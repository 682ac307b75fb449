// One Baileys login, alone: the gateway's adapter (BaileysConnectionFactory) reconnecting one
// paired session to the built wa-sim in its own process, one login at a time, nothing else on
// the event loops — the floor under the fleet's `:start`→`working` and a takeover's CPU.
//
//   npm run build && npm run bench:login
//
// Prints one table: connect → open latency p50 / p99 / min over BENCH_LOGINS sequential logins
// (after BENCH_WARMUP unmeasured ones), and the CPU each login cost this process (the adapter)
// and the sim. The auth state is in memory here (the gateway's is Postgres).
// Options (env): BENCH_LOGINS=200 BENCH_WARMUP=20
import { MemoryAuthStore } from '@wagw/whatsapp';
import { adapterAgainstSim } from './lib/baileys-adapter.mjs';
import { cpuSeconds } from './lib/procs.mjs';
import { envInt } from './lib/services.mjs';
import { percentile, round } from './lib/stats.mjs';

const LOGINS = Math.max(1, envInt('BENCH_LOGINS', 200));
const WARMUP = envInt('BENCH_WARMUP', 20);

const { sim, open, pair, stop } = await adapterAgainstSim('login-bench');
try {
  const auth = new MemoryAuthStore();
  await pair('login', auth, '6281300000001');

  const login = async () => {
    const t0 = performance.now();
    const s = await open('login', auth);
    await s.listener.until(() => s.listener.seen.opened);
    const ms = performance.now() - t0;
    await s.connection.close();
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await login();
  const cpu0 = { self: process.cpuUsage(), sim: cpuSeconds(sim.proc.pid) };
  const latencies = [];
  for (let i = 0; i < LOGINS; i++) latencies.push(await login());
  const self = process.cpuUsage(cpu0.self);
  const simCpu = cpuSeconds(sim.proc.pid) - cpu0.sim;
  const perLogin = (seconds) => `${round((seconds * 1000) / LOGINS, 2)} ms`;
  console.log(
    `\nLogin — Node ${process.version}, BENCH_LOGINS=${LOGINS} BENCH_WARMUP=${WARMUP} (one at a time, a close after each)`,
  );
  console.table([
    {
      'connect → open p50 (ms)': round(percentile(latencies, 50), 1),
      'p99 (ms)': round(percentile(latencies, 99), 1),
      'min (ms)': round(Math.min(...latencies), 1),
      'CPU per login, adapter (incl. close)': perLogin((self.user + self.system) / 1e6),
      'CPU per login, sim': perLogin(simCpu),
    },
  ]);
} finally {
  stop();
}
process.exit(0);
