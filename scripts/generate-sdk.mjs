// npm run sdk:generate — regenerates libs/sdk/src/generated/api-types.ts from the OpenAPI
// document the built API serves: runs `apps/api/dist/main.js` on a throwaway embedded database
// (no services needed), reads /api/docs-json, renders it with openapi-typescript.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { renderSdkTypes, SDK_TYPES_FILE } from './sdk-types.mjs';

const ROOT = resolve(import.meta.dirname, '..');

const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer().once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

const dataDir = await mkdtemp(join(tmpdir(), 'wagw-sdk-'));
const port = await freePort();
const api = spawn(process.execPath, [resolve(ROOT, 'apps/api/dist/main.js')], {
  cwd: ROOT,
  env: {
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
try {
  const url = `http://127.0.0.1:${port}/api/docs-json`;
  const deadline = Date.now() + 60_000;
  let document;
  while (!document) {
    if (api.exitCode !== null) throw new Error(`the API exited with ${api.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 60 s`);
    document = await fetch(url)
      .then((res) => (res.ok ? res.json() : undefined))
      .catch(() => undefined);
    if (!document) await new Promise((r) => setTimeout(r, 200));
  }
  await writeFile(SDK_TYPES_FILE, await renderSdkTypes(document));
  process.stdout.write(`wrote ${relative(ROOT, SDK_TYPES_FILE)}\n`);
} finally {
  api.kill('SIGTERM');
  await new Promise((r) => (api.exitCode === null ? api.once('exit', r) : r()));
  await rm(dataDir, { recursive: true, force: true });
}
