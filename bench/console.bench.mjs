// Web console benchmark: page weight and time to interactive on localhost.
//
//   npm run build && npm run bench:console
//
// 1. Page weight: every script and stylesheet index.html loads (apps/console/dist), raw and
//    gzipped (zlib level 9), JavaScript apart (target < 200 KB gzipped).
// 2. Time to interactive, against `npm run start:sandbox`'s process (API + gateway + simulator on an
//    embedded database in a temporary DATA_DIR) with BENCH_SESSIONS sessions, in Debian's
//    Chromium (playwright-core), BENCH_RUNS runs each, a fresh browser context (empty cache)
//    per run:
//    - sign-in: navigation start → the sign-in form is rendered and the main thread is idle;
//    - sessions: a signed-in tab's navigation start → the sessions table is rendered with its
//      rows (the API answered) and the main thread is idle (the first idle callback after).
//    Median and worst of the runs, plus first contentful paint (target TTI < 1 s).
//
// Options (env): BENCH_RUNS=10 BENCH_SESSIONS=20 CHROMIUM_PATH=/usr/bin/chromium
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { cliCreateApiKey, freePort, REPO_ROOT, runNode, waitFor } from './lib/procs.mjs';
import { apiCall, envInt } from './lib/services.mjs';
import { median, round } from './lib/stats.mjs';

const RUNS = envInt('BENCH_RUNS', 10);
const SESSIONS = envInt('BENCH_SESSIONS', 20);
const DIST = resolve(REPO_ROOT, 'apps/console/dist');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const kb = (bytes) => `${round(bytes / 1024, 1)} KB`;

async function pageWeight() {
  const html = await readFile(join(DIST, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
  const rows = [];
  for (const file of files) {
    const bytes = await readFile(join(DIST, file));
    rows.push({ file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  }
  const js = rows.filter((r) => r.file.endsWith('.js'));
  const sum = (list, key) => list.reduce((a, r) => a + r[key], 0);
  return {
    rows,
    jsRaw: sum(js, 'raw'),
    jsGzip: sum(js, 'gzip'),
    allRaw: sum(rows, 'raw') + html.length,
    allGzip: sum(rows, 'gzip') + gzipSync(html, { level: 9 }).length,
  };
}

/** ms since navigation start when `selector` is rendered and the main thread is next idle. */
async function measure(browser, url, selector, token) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) =>
    ['127.0.0.1', 'localhost'].includes(new URL(route.request().url()).hostname)
      ? route.continue()
      : route.abort(),
  );
  if (token)
    await context.addInitScript((t) => sessionStorage.setItem('wagw.console.token', t), token);
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector(selector);
  const result = await page.evaluate(
    () =>
      new Promise((done) =>
        globalThis.requestIdleCallback(() =>
          done({
            tti: performance.now(),
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
          }),
        ),
      ),
  );
  await context.close();
  return result;
}

const dataDir = await mkdtemp(join(tmpdir(), 'wagw-console-bench-'));
const port = await freePort();
const env = { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' };
const api = runNode(
  'api',
  'apps/api/dist/main.js',
  { ...env, WA_NETWORK: 'sandbox', WA_SIM_PORT: String(await freePort()) },
  ['--embedded-gateway'],
);
let browser;
try {
  const weight = await pageWeight();
  console.log('page weight (apps/console/dist):');
  for (const r of weight.rows) console.log(`  ${r.file}: ${kb(r.raw)} raw, ${kb(r.gzip)} gzipped`);
  console.log(
    `  JavaScript: ${kb(weight.jsRaw)} raw, ${kb(weight.jsGzip)} gzipped (target < 200 KB)`,
  );
  console.log(
    `  everything (html + js + css): ${kb(weight.allRaw)} raw, ${kb(weight.allGzip)} gzipped`,
  );

  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor('API ready', async () => (await fetch(`${baseUrl}/readyz`)).ok, 120_000, 200);
  const key = cliCreateApiKey(env, 'org_bench_console');
  for (let i = 0; i < SESSIONS; i++)
    await apiCall(baseUrl, key, 'POST', '/api/v1/sessions', { label: `Line ${i + 1}` });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const results = { signIn: [], sessions: [] };
  // One warm-up of each (the server's first requests), not counted.
  await measure(browser, `${baseUrl}/`, '#token');
  await measure(browser, `${baseUrl}/`, 'tr[data-session-id]', key);
  for (let run = 0; run < RUNS; run++) {
    results.signIn.push(await measure(browser, `${baseUrl}/`, '#token'));
    results.sessions.push(await measure(browser, `${baseUrl}/`, 'tr[data-session-id]', key));
  }
  console.log(
    `\ntime to interactive, ${RUNS} runs, fresh context each (load average ${loadavg()
      .map((l) => round(l, 1))
      .join(' ')}):`,
  );
  for (const [name, list] of Object.entries(results)) {
    const tti = list.map((r) => r.tti);
    const fcp = list.map((r) => r.fcp);
    console.log(
      `  ${name === 'signIn' ? 'sign-in page' : `sessions page (${SESSIONS} rows)`}: TTI median ${round(median(tti))} ms, worst ${round(Math.max(...tti))} ms; FCP median ${round(median(fcp))} ms (target TTI < 1,000 ms)`,
    );
  }
} finally {
  await browser?.close();
  await api.stop();
  await rm(dataDir, { recursive: true, force: true });
}
