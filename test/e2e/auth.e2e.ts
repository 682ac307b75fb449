import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
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
  type SigningKey,
  signToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from '../support/jwks-server.js';
import { runToCompletion, waitFor } from '../support/processes.js';
import { createTestDatabase, dropTestDatabase } from '../support/test-database.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const unauthorized = { error: { code: 'unauthorized', message: expect.any(String), details: {} } };

describe('authentication and authorization (built API process, real JWKS over HTTP)', () => {
  const jwks = new JwksServer();
  let api: ApiProcess;
  let db: { name: string; url: string };
  let rsa: SigningKey;
  let ec: SigningKey;
  let ed: SigningKey;

  beforeAll(async () => {
    db = await createTestDatabase('wagw_e2e_auth');
    await migrate(db.url);
    [rsa, ec, ed] = await Promise.all([
      newSigningKey('rsa-1'),
      newSigningKey('ec-1', 'ES256'),
      newSigningKey('ed-1', 'EdDSA'),
    ]);
    jwks.keys = [rsa, ec, ed];
    const jwksUrl = await jwks.start();
    api = await startApiProcess({
      DATABASE_URL: db.url,
      AUTH_JWKS_URL: jwksUrl,
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_AUDIENCE: TEST_AUDIENCE,
      AUTH_JWKS_COOLDOWN_MS: '0',
    });
  });

  afterAll(async () => {
    await api?.stop();
    await jwks.stop();
    if (db) await dropTestDatabase(db.name);
  });

  const owner = (org = 'org_auth_a', key = rsa): Promise<string> =>
    signToken({ key, claims: { org_id: org, role: 'owner', sub: `user_${org}` } });

  it('accepts RS256, ES256 and EdDSA login tokens', async () => {
    for (const key of [rsa, ec, ed]) {
      const res = await call(api.baseUrl, 'GET', '/api/v1/sessions', {
        token: await owner('org_auth_a', key),
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: expect.any(Array), nextCursor: null });
    }
  });

  describe('rejects every forged or invalid credential with 401', () => {
    const attacks: [string, () => Promise<Record<string, string>>][] = [
      ['no token', () => Promise.resolve({})],
      [
        'a non-bearer scheme',
        () => Promise.resolve({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }),
      ],
      ['a garbage token', () => Promise.resolve({ authorization: 'Bearer not.a.jwt' })],
      [
        'alg none',
        () =>
          Promise.resolve({
            authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ org_id: 'org_auth_a', role: 'owner', sub: 'x', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}.`,
          }),
      ],
      [
        'HS256 signed with the public key',
        async () => {
          const pem = await exportSPKI(
            (await generateKeyPair('RS256', { extractable: true })).publicKey,
          );
          const publicPem = rsa.publicJwk; // the attacker knows the published key
          const secret = new TextEncoder().encode(JSON.stringify(publicPem) + pem);
          const token = await new SignJWT({ org_id: 'org_auth_a', role: 'owner', sub: 'x' })
            .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
            .setIssuer(TEST_ISSUER)
            .setAudience(TEST_AUDIENCE)
            .setExpirationTime('10m')
            .sign(secret);
          return { authorization: `Bearer ${token}` };
        },
      ],
      [
        'an expired token',
        async () => ({
          authorization: `Bearer ${await signToken({ key: rsa, expiresIn: Math.floor(Date.now() / 1000) - 120 })}`,
        }),
      ],
      [
        'nbf in the future',
        async () => ({
          authorization: `Bearer ${await signToken({ key: rsa, notBefore: Math.floor(Date.now() / 1000) + 600 })}`,
        }),
      ],
      [
        'the wrong issuer',
        async () => ({
          authorization: `Bearer ${await signToken({ key: rsa, issuer: 'https://evil.example' })}`,
        }),
      ],
      [
        'the wrong audience',
        async () => ({
          authorization: `Bearer ${await signToken({ key: rsa, audience: 'another-api' })}`,
        }),
      ],
      [
        'an unknown kid',
        async () => ({
          authorization: `Bearer ${await signToken({ key: await newSigningKey('rogue') })}`,
        }),
      ],
      [
        'a known kid but a foreign key',
        async () => {
          const rogue = await newSigningKey(rsa.kid);
          return { authorization: `Bearer ${await signToken({ key: rogue })}` };
        },
      ],
      [
        'a tampered payload',
        async () => {
          const [h, , s] = (await owner()).split('.');
          const forged = b64({
            org_id: 'org_auth_b',
            role: 'owner',
            sub: 'x',
            iss: TEST_ISSUER,
            aud: TEST_AUDIENCE,
            exp: Math.floor(Date.now() / 1000) + 600,
          });
          return { authorization: `Bearer ${h}.${forged}.${s}` };
        },
      ],
      [
        'a token without exp',
        async () => {
          const token = await new SignJWT({ org_id: 'org_auth_a', role: 'owner', sub: 'x' })
            .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
            .setIssuer(TEST_ISSUER)
            .setAudience(TEST_AUDIENCE)
            .sign(rsa.privateKey);
          return { authorization: `Bearer ${token}` };
        },
      ],
      [
        'a token without an organization',
        async () => ({
          authorization: `Bearer ${await signToken({ key: rsa, claims: { org_id: undefined } })}`,
        }),
      ],
      [
        'a made-up API key',
        () => Promise.resolve({ authorization: `Bearer wagw_0123456789abcdef_${'A'.repeat(43)}` }),
      ],
    ];
    it.each(attacks)('%s', async (_name, headers) => {
      const res = await call(api.baseUrl, 'GET', '/api/v1/sessions', { headers: await headers() });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized);
    });
  });

  it('stops accepting a token at its expiry even after it was accepted (and remembered)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 1;
    const token = await signToken({ key: rsa, expiresIn: exp });
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token })).status).toBe(200);
    // exp + the configured clock tolerance (5 s) has passed: refused, cached or not.
    await new Promise((r) => setTimeout(r, (exp + 5) * 1000 - Date.now() + 500));
    const res = await call(api.baseUrl, 'GET', '/api/v1/sessions', { token });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(unauthorized);
  });

  it('follows key rotation: a new kid published later is fetched and accepted', async () => {
    const rotated = await newSigningKey('rsa-2');
    const token = await owner('org_auth_a', rotated);
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token })).status).toBe(401);
    jwks.keys = [...jwks.keys, rotated];
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token })).status).toBe(200);
  });

  it('checks capabilities after authentication and before validation (403 before 400)', async () => {
    const member = await signToken({
      key: rsa,
      claims: { org_id: 'org_auth_a', role: 'member', sub: 'm' },
    });
    const res = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
      token: member,
      body: { bogus: true },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    const stranger = await signToken({
      key: rsa,
      claims: { org_id: 'org_auth_a', role: 'viewer', sub: 'v' },
    });
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: stranger })).status).toBe(
      403,
    );
    const ownerRes = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
      token: await owner(),
      body: { bogus: true },
    });
    expect(ownerRes.status).toBe(400);
  });

  it("hides other organizations' sessions as 404", async () => {
    const created = await call(api.baseUrl, 'POST', '/api/v1/sessions', {
      token: await owner('org_auth_a'),
      body: { label: 'mine' },
    });
    expect(created.status).toBe(201);
    const other = await owner('org_auth_b');
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { label: 'stolen' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await call(api.baseUrl, method, `/api/v1/sessions/${created.body.id}`, {
        token: other,
        body,
      });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        error: { code: 'not_found', message: 'session not found', details: {} },
      });
    }
    const list = await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: other });
    expect(list.body.items.map((s: { id: string }) => s.id)).not.toContain(created.body.id);
    const still = await call(api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}`, {
      token: await owner('org_auth_a'),
    });
    expect(still.body.label).toBe('mine');
  });

  it('issues API keys to login tokens only, and a revoked key stops working at once', async () => {
    const jwt = await owner('org_auth_keys');
    const created = await call(api.baseUrl, 'POST', '/api/v1/api-keys', {
      token: jwt,
      body: { name: 'script', capabilities: ['send'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^wagw_[0-9a-f]{16}_/);
    const key = created.body.secret as string;

    // A send-only key may not manage sessions, and no API key may mint keys.
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: key })).status).toBe(403);
    const manageKey = await call(api.baseUrl, 'POST', '/api/v1/api-keys', {
      token: jwt,
      body: { name: 'ops', capabilities: ['manage', 'send'] },
    });
    expect(
      (await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: manageKey.body.secret })).status,
    ).toBe(200);
    expect(
      (await call(api.baseUrl, 'GET', '/api/v1/api-keys', { token: manageKey.body.secret })).status,
    ).toBe(403);

    const list = await call(api.baseUrl, 'GET', '/api/v1/api-keys', { token: jwt });
    expect(list.status).toBe(200);
    // The secret is everything after `wagw_<prefix>_` (base64url: it may hold `_` itself).
    expect(JSON.stringify(list.body)).not.toContain(key.slice('wagw_'.length + 17));
    expect(list.body.items.map((k: { id: string }) => k.id)).toEqual(
      expect.arrayContaining([created.body.id, manageKey.body.id]),
    );

    const revoked = await call(api.baseUrl, 'DELETE', `/api/v1/api-keys/${manageKey.body.id}`, {
      token: jwt,
    });
    expect(revoked.status).toBe(204);
    const after = await call(api.baseUrl, 'GET', '/api/v1/sessions', {
      token: manageKey.body.secret,
    });
    expect(after.status).toBe(401);
    expect(after.body).toEqual(unauthorized);
    // Another organization cannot revoke (or see) this organization's keys.
    const foreign = await call(api.baseUrl, 'DELETE', `/api/v1/api-keys/${created.body.id}`, {
      token: await owner('org_auth_other'),
    });
    expect(foreign.status).toBe(404);
  });

  it('revokes through the operator CLI at once too', async () => {
    const key = await cliCreateApiKey({ DATABASE_URL: api.env.DATABASE_URL! }, 'org_auth_cli');
    expect((await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: key.secret })).status).toBe(
      200,
    );
    await runToCompletion('apps/api/dist/cli.js', { DATABASE_URL: api.env.DATABASE_URL! }, [
      'api-keys',
      'revoke',
      key.id,
    ]);
    // The revocation reaches this replica by NOTIFY: allow it the time of one round trip.
    await waitFor(
      'revocation to apply',
      async () =>
        (await call(api.baseUrl, 'GET', '/api/v1/sessions', { token: key.secret })).status === 401,
      2_000,
      20,
    );
  });
});
