// Child processes of a benchmark: spawn the built entry points, keep the tail of their output,
// read their RSS / CPU from /proc, and kill every one of them when the benchmark ends — also
// when it fails or is interrupted (SIGINT / SIGTERM / uncaught error).
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

const children = new Set();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

/** Runs `node <script> [args]` from the repository root; keeps the last 64 KB of stdout+stderr. */
export function runNode(name, script, env, args = []) {
  // BENCH_NODE_ARGS: node flags for every child, e.g. `--prof` (a V8 log per process, kept even
  // after a SIGKILL; read it with `node --prof-process`).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, resolve(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk) => {
    tail += chunk.toString();
    if (tail.length > 65_536) tail = tail.slice(-65_536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // BENCH_LOG_DIR: each child's whole output in <dir>/<name>.log, for a run to diagnose.
  if (process.env.BENCH_LOG_DIR) {
    mkdirSync(process.env.BENCH_LOG_DIR, { recursive: true });
    const file = createWriteStream(resolve(process.env.BENCH_LOG_DIR, `${name}.log`));
    child.stdout.pipe(file, { end: false });
    child.stderr.pipe(file, { end: false });
    child.once('exit', () => file.end());
  }
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  const proc = {
    name,
    child,
    pid: child.pid,
    exited,
    output: () => tail,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (proc.alive) child.kill(signal);
      const t = setTimeout(() => proc.alive && child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
      children.delete(proc);
    },
  };
  children.add(proc);
  child.once('exit', () => children.delete(proc));
  return proc;
}

/** Kills (SIGKILL) every child still running; safe to call from an `exit` handler. */
export function killAllChildren() {
  for (const p of children) {
    try {
      if (p.alive) p.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

process.once('exit', killAllChildren);
// `exit` does not run when a signal ends the process: a benchmark with no handler of its own
// would leave its gateways, sim and API running (and loading the machine) after it is killed.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killAllChildren();
    if (process.listenerCount(sig) === 1) process.exit(128 + osConstants.signals[sig]);
  });
}

export async function waitFor(what, probe, timeoutMs = 30_000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
      if (/exited/.test(String(e?.message))) break;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** An API key (manage + send) of `org`, made with the operator CLI against `env`'s database. */
export function cliCreateApiKey(env, org = 'org_bench') {
  const out = execFileSync(
    process.execPath,
    [
      resolve(REPO_ROOT, 'apps/api/dist/cli.js'),
      'api-keys',
      'create',
      '--org',
      org,
      '--name',
      'bench',
      '--capabilities',
      'manage,send',
    ],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env } },
  );
  return JSON.parse(out.toString().trim().split('\n').pop()).secret;
}

/** VmRSS in MB (one decimal). */
export function rssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS'));
  return Math.round(Number(line.split(/\s+/)[1]) / 102.4) / 10;
}

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* Linux default */
}

/** utime+stime of one process, in seconds (0 if it is gone). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clkTck;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds per pid of every process whose comm is `comm` and, if given, whose command line
 * contains `cmdlineHas` (e.g. the Postgres backends serving one database).
 */
export function cpuByPid(comm, cmdlineHas) {
  const out = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
      if (cmdlineHas && !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(cmdlineHas))
        continue;
      out.set(entry, cpuSeconds(entry));
    } catch {
      /* raced with its exit */
    }
  }
  return out;
}

/** CPU seconds spent between two `cpuByPid` maps by the processes alive at the end (no negative deltas when some exit). */
export function cpuDelta(before, after) {
  let total = 0;
  for (const [pid, v] of after) total += v - (before.get(pid) ?? 0);
  return total;
}

/**
 * CPU seconds so far of a bench's components: its child processes (`pids`, by name), the
 * Postgres backends of its database, NATS, this process, and the whole machine.
 */
export function componentCpu(pids, dbName) {
  return {
    t: performance.now(),
    machine: machineBusySeconds(),
    procs: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)])),
    postgres: cpuByPid('postgres', dbName),
    nats: cpuByPid('nats-server'),
    bench: process.cpuUsage(),
  };
}

/**
 * What each component spent between two `componentCpu` snapshots, in CPU seconds (`procs`: the
 * child processes in both snapshots), with the machine's busy seconds and the wall time.
 */
export function componentCpuDelta(a, b) {
  const procs = {};
  for (const [name, seconds] of Object.entries(b.procs))
    if (a.procs[name] !== undefined) procs[name] = seconds - a.procs[name];
  return {
    procs,
    postgres: cpuDelta(a.postgres, b.postgres),
    nats: cpuDelta(a.nats, b.nats),
    bench: (b.bench.user + b.bench.system - a.bench.user - a.bench.system) / 1e6,
    machine: b.machine - a.machine,
    wallSeconds: (b.t - a.t) / 1000,
  };
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0)) / clkTck;
}

/** Waits for a gateway process's `/readyz`; fails at once if the process dies. */
export function waitGatewayReady(id, proc, opsUrl) {
  return waitFor(
    `gateway ${id} ready`,
    async () => {
      if (!proc.alive) throw new Error(`gateway ${id} exited: ${proc.output()}`);
      return (await fetch(`${opsUrl}/readyz`)).ok;
    },
    30_000,
    20,
  );
}

/** The built wa-sim as its own process on a free port, with its root key in `dataDir`; waits for it. */
export async function startSimProcess(dataDir, env = {}) {
  const port = await freePort();
  const proc = runNode('wa-sim', 'apps/wa-sim/dist/main.js', {
    WA_SIM_PORT: String(port),
    WA_SIM_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const controlUrl = `http://127.0.0.1:${port}`;
  await waitFor('wa-sim', async () => (await fetch(`${controlUrl}/sim/v1/healthz`)).ok);
  return { proc, port, controlUrl, webUrl: `ws://127.0.0.1:${port}/ws/chat` };
}
