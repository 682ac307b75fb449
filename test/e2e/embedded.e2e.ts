import { access, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ApiProcess, call, cliCreateApiKey, startApiProcess } from '../support/api-process.js';
import { runNode } from '../support/processes.js';

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

/** `npm start` with no configuration: the API on the embedded PGlite database in DATA_DIR. */
describe('embedded mode (no DATABASE_URL)', () => {
  let dataDir: string;
  let api: ApiProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wagw-embedded-'));
    api = await startApiProcess({ DATA_DIR: dataDir });
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
    api = await startApiProcess({ DATA_DIR: dataDir });
    const got = await call(api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}`, {
      token: key.secret,
    });
    expect(got.status).toBe(200);
  });
});
