import '../support/esm-require-shim.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type InProcessApi, startInProcessApi } from '../support/in-process-api.js';

/** One organization cannot take the fleet: per-organization session and pairing quotas. */
describe('organization quotas', () => {
  let api: InProcessApi;

  beforeAll(async () => {
    // No gateway serves this API: a pairing that needs a claim answers 503, and is then undone.
    api = await startInProcessApi({
      ORG_MAX_SESSIONS: '5',
      ORG_MAX_PAIRING: '2',
      COMMAND_TIMEOUT_MS: '100',
    });
  });

  afterAll(async () => {
    await api?.close();
  });

  const post = async (token: string, url: string, payload?: unknown) => {
    const res = await api.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(payload ?? {}),
    });
    return { status: res.statusCode, body: res.json<Record<string, any>>() };
  };

  it('admits exactly ORG_MAX_SESSIONS of many concurrent creates, and no more', async () => {
    const token = await api.apiKey('org_quota_sessions');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => post(token, '/api/v1/sessions', { label: 'x' })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(15);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe('rate_limited');
      expect(r.body.error.details.reason).toBe('session_quota');
    }
    const list = await api.app.inject({
      method: 'GET',
      url: '/api/v1/sessions',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(5);
  });

  it("does not count one organization's sessions against another's", async () => {
    const other = await api.apiKey('org_quota_other');
    expect((await post(other, '/api/v1/sessions')).status).toBe(201);
  });

  it('admits exactly ORG_MAX_PAIRING concurrent pairings', async () => {
    const token = await api.apiKey('org_quota_pairing');
    const results = await Promise.all(
      Array.from({ length: 4 }, () => post(token, '/api/v1/sessions', { start: true })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(429);
      expect(r.body.error.details.reason).toBe('pairing_quota');
    }
    // A stopped, unpaired session may still be created, but not start a third pairing.
    const idle = await post(token, '/api/v1/sessions');
    expect(idle.status).toBe(201);
    const qr = await api.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${idle.body.id}/qr`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(qr.statusCode).toBe(429);
    expect(qr.json<{ error: { details: { reason: string } } }>().error.details.reason).toBe(
      'pairing_quota',
    );
    const code = await post(token, `/api/v1/sessions/${idle.body.id}/pairing-code`, {
      phoneNumber: '6281234567890',
    });
    expect(code.status).toBe(429);
    expect(code.body.error.details.reason).toBe('pairing_quota');
  });

  it('frees a pairing slot when a pairing is stopped', async () => {
    const token = await api.apiKey('org_quota_free');
    const a = await post(token, '/api/v1/sessions', { start: true });
    const b = await post(token, '/api/v1/sessions', { start: true });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await post(token, '/api/v1/sessions', { start: true })).status).toBe(429);
    expect((await post(token, `/api/v1/sessions/${a.body.id}:stop`)).status).toBe(200);
    expect((await post(token, '/api/v1/sessions', { start: true })).status).toBe(201);
  });
});
