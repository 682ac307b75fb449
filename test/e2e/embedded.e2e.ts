import { access, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ApiProcess, call, cliCreateApiKey, startApiProcess } from '../support/api-process.js';
import { childPids, listeningPorts } from '../support/process-sockets.js';
import { freePort, runNode, waitFor } from '../support/processes.js';

/** Every entry under `dir` with its permission bits. */
async function modes(dir: string): Promise<{ path: string; mode: number; dir: boolean }[]> {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path).catch(() => null);
    if (info) out.push({ path, mode: info.mode & 0o777, dir: info.isDirectory() });
  }
  return out;
}

/**
 * `npm start` with no configuration: the API and one gateway worker (Baileys, on the real
 * WhatsApp network) on the embedded PGlite database in DATA_DIR. No session is started here:
 * a test never talks to WhatsApp.
 */
describe('embedded mode (no DATABASE_URL)', () => {
  let dataDir: string;
  let api: ApiProcess;
  /** Where the sandbox would listen if this process embedded one (it must not). */
  let simPort: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wagw-embedded-'));
    simPort = await freePort();
    api = await startApiProcess(
      { DATA_DIR: dataDir, WA_SIM_PORT: String(simPort), LOG_LEVEL: 'info' },
      ['--embedded-gateway'],
    );
  });

  it('connects to WhatsApp itself: no simulator, no sandbox routes, one port', async () => {
    // The worker drives Baileys on the real network, and says so.
    await waitFor('the WhatsApp driver line', () =>
      Promise.resolve(/"msg":"WhatsApp: the real network"/.test(api.process.output())),
    );
    const line = api.process
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"WhatsApp: the real network"'))!;
    expect(JSON.parse(line)).toMatchObject({ driver: 'baileys', network: 'whatsapp' });
    expect(api.process.output()).not.toMatch(/simulated WhatsApp network listening/);
    // One process listening on one port: the API's. Nothing on the simulator's port.
    const pid = api.process.child.pid!;
    expect(await listeningPorts(pid)).toEqual([Number(new URL(api.baseUrl).port)]);
    expect(await childPids(pid)).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${simPort}/sim/v1/healthz`)).rejects.toThrow();
    await expect(access(join(dataDir, 'wa-sim'))).rejects.toThrow();
    // The sandbox's routes do not exist: the contract's 404 envelope, with or without a key.
    const key = await cliCreateApiKey({ DATA_DIR: dataDir }, 'org_embedded');
    const answers = await Promise.all([
      call(api.baseUrl, 'GET', '/sandbox/v1/status'),
      call(api.baseUrl, 'POST', '/sandbox/v1/qr:scan', {
        token: key.secret,
        body: { qr: 'x', phoneNumber: '6281234500001' },
      }),
      call(api.baseUrl, 'POST', '/sandbox/v1/pairing-codes:enter', {
        token: key.secret,
        body: { code: 'ABCD-EFGH', phoneNumber: '6281234500001' },
      }),
      call(api.baseUrl, 'POST', '/sandbox/v1/messages', {
        body: { from: '6598765432', to: '6281234500001', text: 'hi' },
      }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({
        error: { code: 'not_found', message: expect.any(String), details: expect.any(Object) },
      });
    }
    // The embedded worker is there all the same.
    const admin = await cliCreateApiKey({ DATA_DIR: dataDir }, 'org_embedded_admin', 'manage', [
      '--admin',
    ]);
    const gateways = await call(api.baseUrl, 'GET', '/api/v1/gateways', { token: admin.secret });
    expect(gateways.body.items.map((g: { id: string }) => g.id)).toEqual(['embedded']);
  });

  afterAll(async () => {
    await api?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves sessions to a key made by the CLI while the product runs', async () => {
    const key = await cliCreateApiKey({ DATA_DIR: dataDir }, 'org_embedded');
    expect(key.secret).toMatch(/^wagw_/);
    const created = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
      token: key.secret,
      body: { label: 'embedded' },
    });
    expect(created.status).toBe(201);
    const list = await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: key.secret });
    expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([created.body.id]);
  });

  it('refuses a second product process on the same DATA_DIR instead of corrupting it', async () => {
    await expect(startApiProcess({ DATA_DIR: dataDir })).rejects.toThrow(/in use/);
  });

  it('honours a CLI revocation at once', async () => {
    const key = await cliCreateApiKey({ DATA_DIR: dataDir }, 'org_embedded');
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: key.secret })).status).toBe(
      200,
    );
    const { runToCompletion } = await import('../support/processes.js');
    await runToCompletion('apps/api/dist/cli.js', { DATA_DIR: dataDir }, [
      'api-keys',
      'revoke',
      key.id,
    ]);
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: key.secret })).status).toBe(
      401,
    );
  });

  it('keeps DATA_DIR to its owner and serves the database on no TCP port', async () => {
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const loose = (await modes(dataDir)).filter((e) => (e.mode & 0o077) !== 0);
    expect(loose).toEqual([]);
    const info = JSON.parse(await readFile(join(dataDir, 'pglite-server.json'), 'utf8')) as {
      url: string;
    };
    expect(info.url).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(info.url).toContain(encodeURIComponent(dataDir));
  });

  it('has the CLI refuse, not invent, a database that does not exist', async () => {
    const missing = join(dataDir, 'nothing-here');
    const cli = runNode('apps/api/dist/cli.js', { DATA_DIR: missing }, [
      'api-keys',
      'list',
      '--org',
      'org_x',
    ]);
    const code = await new Promise((res) => cli.child.once('exit', res));
    expect(code).not.toBe(0);
    expect(cli.output()).toMatch(/no database/);
    await expect(access(missing)).rejects.toThrow();
  });

  it('re-encrypts the auth state through the CLI while the product runs', async () => {
    const { runToCompletion } = await import('../support/processes.js');
    const key = (await import('node:crypto')).randomBytes(32).toString('base64');
    const out = await runToCompletion(
      'apps/api/dist/cli.js',
      { DATA_DIR: dataDir, AUTH_STATE_KEYS: key },
      ['auth-state', 're-encrypt'],
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({ remaining: 0 });
  });

  it('keeps its data across a graceful restart', async () => {
    const key = await cliCreateApiKey({ DATA_DIR: dataDir }, 'org_restart');
    const created = await call(api.baseUrl, 'POST', '/api/v1/sessions', { token: key.secret });
    expect(await api.stop()).toBe(0);
    api = await startApiProcess({ DATA_DIR: dataDir }, ['--embedded-gateway']);
    const got = await call(api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}`, {
      token: key.secret,
    });
    expect(got.status).toBe(200);
  });
});
