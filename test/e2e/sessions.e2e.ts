import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ApiProcess,
  call,
  cliCreateApiKey,
  migrate,
  startApiProcess,
} from '../support/api-process.js';
import {
  JwksServer,
  newSigningKey,
  signToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from '../support/jwks-server.js';
import { createTestDatabase, dropTestDatabase } from '../support/test-database.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('sessions resource (built API process, real Postgres)', () => {
  const jwks = new JwksServer();
  let api: ApiProcess;
  let db: { name: string; url: string };
  let jwt: string;
  let key: string;
  let keyId: string;

  beforeAll(async () => {
    db = await createTestDatabase('wagw_e2e_sessions');
    await migrate(db.url);
    const signing = await newSigningKey('k1');
    jwks.keys = [signing];
    api = await startApiProcess({
      DATABASE_URL: db.url,
      AUTH_JWKS_URL: await jwks.start(),
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_AUDIENCE: TEST_AUDIENCE,
      BODY_LIMIT_BYTES: '4096',
    });
    jwt = await signToken({
      key: signing,
      claims: { org_id: 'org_sessions', role: 'admin', sub: 'user_42' },
    });
    const cliKey = await cliCreateApiKey({ DATABASE_URL: db.url }, 'org_sessions');
    key = cliKey.secret;
    keyId = cliKey.id;
  });

  afterAll(async () => {
    await api?.stop();
    await jwks.stop();
    if (db) await dropTestDatabase(db.name);
  });

  it('creates a session with every field of the contract and its defaults', async () => {
    const before = Date.now();
    const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
      token: jwt,
      body: { label: 'Support line' },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([
      'autoRead',
      'createdAt',
      'createdByUserId',
      'gatewayId',
      'id',
      'isAdminSession',
      'label',
      'lastConnectedAt',
      'organizationId',
      'phoneNumber',
      'presenceTyping',
      'ratePerHour',
      'ratePerMin',
      'status',
      'updatedAt',
      'waJid',
      'waLid',
    ]);
    expect(res.body).toMatchObject({
      autoRead: false,
      createdByUserId: 'user_42',
      gatewayId: null,
      isAdminSession: false,
      label: 'Support line',
      lastConnectedAt: null,
      organizationId: 'org_sessions',
      phoneNumber: null,
      presenceTyping: false,
      ratePerHour: 600,
      ratePerMin: 20,
      status: 'stopped',
      waJid: null,
      waLid: null,
    });
    expect(res.body.id).toMatch(ULID);
    expect(Number.isInteger(res.body.createdAt)).toBe(true);
    expect(res.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(res.body.updatedAt).toBe(res.body.createdAt);

    const got = await call(api.baseUrl, 'GET', `/api/v1/sessions/${res.body.id}`, { token: key });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('records API-key callers as apikey:<id> and starts at once with start: true', async () => {
    const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
      token: key,
      body: { start: true, autoRead: true, presenceTyping: true },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      createdByUserId: `apikey:${keyId}`,
      autoRead: true,
      presenceTyping: true,
      label: null,
      status: 'starting',
    });
  });

  it('accepts an empty body', async () => {
    const res = await fetch(`${api.baseUrl}/api/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(201);
  });

  it("lists the organization's sessions in one page", async () => {
    const res = await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: key });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.length).toBeGreaterThanOrEqual(3);
    expect(
      res.body.items.every((s: { organizationId: string }) => s.organizationId === 'org_sessions'),
    ).toBe(true);
  });

  it('patches settings and keeps the rest', async () => {
    const created = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
      token: key,
      body: { label: 'a' },
    });
    await new Promise((r) => setTimeout(r, 5));
    const res = await call(api.baseUrl, 'PATCH', `/api/v1/sessions/${created.body.id}`, {
      token: key,
      body: { label: null, ratePerMin: 5, ratePerHour: 100, autoRead: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...created.body,
      label: null,
      ratePerMin: 5,
      ratePerHour: 100,
      autoRead: true,
      updatedAt: expect.any(Number),
    });
    expect(res.body.updatedAt).toBeGreaterThan(created.body.updatedAt);
    const got = await call(api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}`, {
      token: key,
    });
    expect(got.body).toEqual(res.body);
  });

  it.each([
    ['an unknown field', { label: 'x', colour: 'red' }, ['colour']],
    ['a label over 100 characters', { label: 'x'.repeat(101) }, ['label']],
    ['a label of the wrong type', { label: 42 }, ['label']],
    ['a string boolean', { autoRead: 'true' }, ['autoRead']],
    ['start as a number', { start: 1 }, ['start']],
  ])('rejects %s on create, naming the fields', async (_name, body, fields) => {
    const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', { token: key, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(Object.keys(res.body.error.details.fields).sort()).toEqual(fields);
  });

  it.each([
    ['a zero rate', { ratePerMin: 0 }, ['ratePerMin']],
    ['a fractional rate', { ratePerHour: 1.5 }, ['ratePerHour']],
    ['a string rate', { ratePerMin: '10' }, ['ratePerMin']],
    ['a read-only field', { status: 'working' }, ['status']],
    [
      'two bad fields',
      { organizationId: 'org_x', presenceTyping: 'yes' },
      ['organizationId', 'presenceTyping'],
    ],
  ])('rejects %s on patch', async (_name, body, fields) => {
    const created = await call(api.baseUrl, 'POST', '/api/v1/sessions', { token: key });
    const res = await call(api.baseUrl, 'PATCH', `/api/v1/sessions/${created.body.id}`, {
      token: key,
      body,
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details.fields).sort()).toEqual(fields);
  });

  it('deletes a session: 204, then 404', async () => {
    const created = await call(api.baseUrl, 'POST', '/api/v1/sessions', { token: key });
    const del = await call(api.baseUrl, 'DELETE', `/api/v1/sessions/${created.body.id}`, {
      token: key,
    });
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect(
      (await call(api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}`, { token: key }))
        .status,
    ).toBe(404);
    expect(
      (await call(api.baseUrl, 'DELETE', `/api/v1/sessions/${created.body.id}`, { token: key }))
        .status,
    ).toBe(404);
  });

  it('answers 404 for ids that cannot exist', async () => {
    for (const id of [
      'sess_01HZX8K3M9',
      '01J9ZX8K2QHV0M3T6R7P4N5W8C',
      "1' OR '1'='1",
      'x'.repeat(300),
    ]) {
      const res = await call(api.baseUrl, 'GET', `/api/v1/sessions/${encodeURIComponent(id)}`, {
        token: key,
      });
      expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
    }
  });

  describe('the error envelope on every path', () => {
    it('unknown routes are 404 not_found, with or without credentials', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/api/v1/nope'],
        ['POST', '/api/v2/sessions'],
        ['PUT', '/api/v1/sessions'],
      ]) {
        const res = await call(api.baseUrl, method!, path!, { token: key });
        expect(res.status).toBe(404);
        expect(res.body).toEqual({
          error: { code: 'not_found', message: 'route not found', details: {} },
        });
      }
    });

    it('malformed JSON is 400 validation_error', async () => {
      const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
        token: key,
        body: '{"label": ',
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    });

    it('a wrong content type is 400 validation_error', async () => {
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
        const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
          token: key,
          body: 'label=x',
          headers: { 'content-type': type },
        });
        expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
      }
    });

    it('JSON that is not an object is 400 validation_error', async () => {
      for (const body of ['[]', '"x"', 'null', '42', 'true']) {
        const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', { token: key, body });
        expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
      }
    });

    it('a body over the limit is 413 payload_too_large', async () => {
      const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
        token: key,
        body: { label: 'x'.repeat(10_000) },
      });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({
        error: { code: 'payload_too_large', message: expect.any(String), details: {} },
      });
    });

    it('echoes a correlation id on every response', async () => {
      const res = await call(api.baseUrl, 'GET', '/api/v1/sessions', {
        headers: { 'x-request-id': 'trace-abc-123' },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    });
  });

  it('serves probes and Prometheus metrics without credentials', async () => {
    expect((await call(api.baseUrl, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await call(api.baseUrl, 'GET', '/readyz')).body).toEqual({
      status: 'ok',
      checks: { database: 'ok' },
    });
    const metrics = await fetch(`${api.baseUrl}/metrics`);
    const text = await metrics.text();
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/sessions"/);
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('never writes a bearer secret to its logs', () => {
    expect(api.process.output()).not.toContain(key.split('_')[2]);
  });
});
