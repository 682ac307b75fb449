import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ApiProcess, call, cliCreateApiKey, startApiProcess } from '../support/api-process.js';

const LOAD_MS = 6_000;

interface Tenant {
  org: string;
  token: string;
  /** Acknowledged creates not (acknowledged) deleted since. */
  live: Set<string>;
  /** The label of each session's last acknowledged PATCH. */
  lastLabel: Map<string, string>;
}

/**
 * `npm start` (API + gateway on the embedded database; the real WhatsApp network, which no
 * session here is started on) under concurrent tenants: the review that found one organization
 * reading another's sessions and acknowledged creates lost.
 */
describe('embedded default under concurrent tenants', () => {
  let dataDir: string;
  let api: ApiProcess;
  const tenants: Tenant[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wagw-conc-'));
    api = await startApiProcess({ DATA_DIR: dataDir }, ['--embedded-gateway']);
    for (const org of ['org_conc_a', 'org_conc_b', 'org_conc_c']) {
      const key = await cliCreateApiKey({ DATA_DIR: dataDir }, org);
      tenants.push({ org, token: key.secret, live: new Set(), lastLabel: new Map() });
    }
  });

  afterAll(async () => {
    await api?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const request = async (
    tenant: Tenant,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }> => {
    const res = await call(api.baseUrl, method, path, { token: tenant.token, body });
    if (res.status >= 500 || res.status === 401)
      problems.push(`${tenant.org} ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  const checkOwned = (tenant: Tenant, what: string, item: { organizationId?: string }): void => {
    if (item.organizationId !== tenant.org)
      problems.push(`${tenant.org} ${what} returned a row of ${String(item.organizationId)}`);
  };

  /** Lists and patches its own sessions, one PATCH at a time per session so "last" is defined. */
  const readerPatcher = async (tenant: Tenant, until: number, worker: number): Promise<void> => {
    let n = 0;
    while (Date.now() < until) {
      n += 1;
      const list = await request(tenant, 'GET', '/api/v1/sessions');
      for (const item of (list.body?.items ?? []) as { organizationId: string }[])
        checkOwned(tenant, 'GET /sessions', item);
      const mine = [...tenant.live].filter((_, i) => i % 2 === worker);
      const id = mine[n % Math.max(1, mine.length)];
      if (!id) continue;
      const label = `w${worker}-${n}`;
      const patched = await request(tenant, 'PATCH', `/api/v1/sessions/${id}`, { label });
      if (patched.status === 200) {
        checkOwned(tenant, 'PATCH', patched.body);
        tenant.lastLabel.set(id, label);
      } else if (patched.status !== 404) {
        problems.push(`${tenant.org} PATCH → ${patched.status}`);
      }
      const got = await request(tenant, 'GET', `/api/v1/sessions/${id}`);
      if (got.status === 200) checkOwned(tenant, 'GET /sessions/{id}', got.body);
    }
  };

  /** Creates, and deletes every other one it created (each DELETE runs a transaction). */
  const churner = async (tenant: Tenant, until: number): Promise<void> => {
    let n = 0;
    while (Date.now() < until) {
      n += 1;
      const created = await request(tenant, 'POST', '/api/v1/sessions', { label: `c-${n}` });
      if (created.status !== 201) {
        problems.push(`${tenant.org} POST → ${created.status}`);
        continue;
      }
      checkOwned(tenant, 'POST', created.body);
      if (n % 2 === 0) {
        const deleted = await request(tenant, 'DELETE', `/api/v1/sessions/${created.body.id}`);
        if (deleted.status !== 204) problems.push(`${tenant.org} DELETE → ${deleted.status}`);
      } else {
        tenant.live.add(created.body.id as string);
      }
    }
  };

  it('keeps every tenant to its own rows and loses no acknowledged write', async () => {
    const [a, b, c] = tenants as [Tenant, Tenant, Tenant];
    for (const tenant of [a, b]) {
      for (let i = 0; i < 10; i += 1) {
        const created = await request(tenant, 'POST', '/api/v1/sessions', { label: `seed-${i}` });
        expect(created.status).toBe(201);
        tenant.live.add(created.body.id as string);
      }
    }
    const until = Date.now() + LOAD_MS;
    await Promise.all([
      ...[a, b].flatMap((t) => [readerPatcher(t, until, 0), readerPatcher(t, until, 1)]),
      churner(c, until),
      churner(c, until),
      churner(a, until),
    ]);

    expect(problems).toEqual([]);
    for (const tenant of tenants) {
      const list = await request(tenant, 'GET', '/api/v1/sessions');
      const ids = (list.body.items as { id: string; organizationId: string }[]).map((s) => s.id);
      expect(new Set(ids)).toEqual(tenant.live);
      for (const [id, label] of tenant.lastLabel) {
        const got = await request(tenant, 'GET', `/api/v1/sessions/${id}`);
        expect(got.body.label).toBe(label);
      }
    }
    expect(c.live.size).toBeGreaterThan(10);
  }, 120_000);
});
