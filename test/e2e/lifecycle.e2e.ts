import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WaSimControlClient, WaSimControlError } from '@wagw/wa-sim';
import { call } from '../support/api-process.js';
import { EMBEDDED_GATEWAY_ID, EmbeddedFleet } from '../support/embedded-fleet.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/processes.js';

/**
 * The session lifecycle as a user drives it (spec/api-v1.md + seeds), the real Baileys client
 * on the sandbox (wa-sim) under both
 * transports: the distributed fleet (API + 2 gateways + wa-sim processes, Postgres, NATS) and
 * the embedded product (`--embedded-gateway`: one process, PGlite, in-process transport and sim).
 * The tests play the phone through the sim's control API.
 */

interface Session {
  id: string;
  organizationId: string;
  status: string;
  gatewayId: string | null;
  label: string | null;
  phoneNumber: string | null;
  waJid: string | null;
  waLid: string | null;
  lastConnectedAt: number | null;
  createdAt: number;
}

/** What every test sees of a running product, whichever transport it runs on. */
interface Target {
  baseUrl: string;
  /** Base of the sim's control API: `${simControlUrl}/sim/v1/...`. */
  simControlUrl: string;
  apiKey(org: string, admin?: boolean): Promise<string>;
  expectGatewayIds: string[];
  /** The distributed fleet, for the tests that stop its gateways; null when embedded. */
  fleet: Fleet | null;
  stop(): Promise<void>;
}

async function distributed(): Promise<Target> {
  const fleet = new Fleet();
  try {
    await fleet.start(['gw-a', 'gw-b']);
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return {
    baseUrl: fleet.api.baseUrl,
    simControlUrl: fleet.sim.controlUrl,
    apiKey: (org, admin) => fleet.apiKey(org, admin),
    expectGatewayIds: ['gw-a', 'gw-b'],
    fleet,
    stop: () => fleet.stop(),
  };
}

async function embedded(): Promise<Target> {
  // `npm run start:sandbox`: the real Baileys client against the embedded sandbox (wa-sim).
  const product = new EmbeddedFleet();
  try {
    await product.start();
  } catch (error) {
    await product.stop();
    throw error;
  }
  return {
    baseUrl: product.api.baseUrl,
    simControlUrl: product.simControlUrl,
    apiKey: (org, admin) => product.apiKey(org, admin),
    expectGatewayIds: [EMBEDDED_GATEWAY_ID],
    fleet: null,
    stop: () => product.stop(),
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A well-formed id that names no session. */
const MISSING_ID = '01J9ZX8K2QHV0M3T6R7P4N5W8C';

let phoneSeq = 0;
/** A distinct phone number for every test, across both transports. */
const nextPhone = (): string => `6281200${String(++phoneSeq).padStart(6, '0')}`;

function expectError(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
}

describe.each([
  { transport: 'distributed', start: distributed },
  { transport: 'embedded', start: embedded },
])('session lifecycle ($transport)', ({ transport, start }) => {
  let t: Target;
  let keyA: string;
  let keyB: string;
  let adminKey: string;

  beforeAll(async () => {
    t = await start();
    [keyA, keyB, adminKey] = await Promise.all([
      t.apiKey(`org_lifecycle_a_${transport}`),
      t.apiKey(`org_lifecycle_b_${transport}`),
      t.apiKey(`org_lifecycle_admin_${transport}`, true),
    ]);
  });
  afterAll(() => t?.stop());

  // --- helpers ------------------------------------------------------------------------------

  const path = (id: string, rest = ''): string => `/api/v1/sessions/${id}${rest}`;
  const get = (key: string, id: string) => call(t.baseUrl, 'GET', path(id), { token: key });
  const command = (key: string, id: string, verb: string) =>
    call(t.baseUrl, 'POST', path(id, `:${verb}`), { token: key });
  const create = (key: string, body: Record<string, unknown> = {}) =>
    call(t.baseUrl, 'POST', '/api/v1/sessions', { token: key, body });

  const until = (key: string, id: string, what: string, ok: (s: Session) => boolean) =>
    waitFor(
      `session ${what}`,
      async () => {
        const res = await get(key, id);
        return res.status === 200 && ok(res.body as Session) ? (res.body as Session) : null;
      },
      20_000,
    );

  /** The phone and the network, played through the sim's control API. */
  const sim = () => new WaSimControlClient(t.simControlUrl);
  const simConnections = () => sim().connections();
  const liveConnection = async (phone: string) =>
    (await simConnections()).items.find((c) => c.phoneNumber === phone);
  const simDevice = (phone: string) => sim().device(phone);
  /** The sim does not know the device (it was unlinked): 404 not_found. */
  async function expectNoSimDevice(phone: string): Promise<void> {
    const error = await simDevice(phone).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WaSimControlError);
    expect({
      status: (error as WaSimControlError).status,
      code: (error as WaSimControlError).code,
    }).toEqual({ status: 404, code: 'not_found' });
  }
  const untilNoConnection = (phone: string) =>
    waitFor(`no live sim connection for ${phone}`, async () => !(await liveConnection(phone)));

  /** Create with `start: true`, scan the QR on the phone, wait until working. */
  async function pairByQr(key: string, phone: string, label?: string): Promise<Session> {
    const created = await create(key, { start: true, ...(label ? { label } : {}) });
    expect(created.status).toBe(201);
    const qr = await call(t.baseUrl, 'GET', path(created.body.id, '/qr'), { token: key });
    expect(qr.status).toBe(200);
    expect(await sim().scanQr(qr.body.qr, phone)).toMatchObject({ phoneNumber: phone });
    return until(key, created.body.id, 'working', (s) => s.status === 'working');
  }

  // --- pairing ------------------------------------------------------------------------------

  it('pairs by QR: starting → QR (JSON and PNG) → scan on the phone → working on a live gateway', async () => {
    const phone = nextPhone();
    const created = await create(keyA, { label: 'qr pairing', start: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      label: 'qr pairing',
      status: 'starting',
      phoneNumber: null,
      waJid: null,
      waLid: null,
      lastConnectedAt: null,
    });
    const id = created.body.id as string;

    const qr = await call(t.baseUrl, 'GET', path(id, '/qr'), { token: keyA });
    expect(qr.status).toBe(200);
    expect(qr.body).toEqual({ qr: expect.any(String), expiresAt: expect.any(Number) });
    expect(qr.body.expiresAt).toBeGreaterThan(Date.now());
    // A QR code is a secret of the moment: never cached, and its representation varies by Accept.
    expect(qr.headers.get('cache-control')).toBe('no-store');
    expect(qr.headers.get('vary')).toMatch(/accept/i);
    await until(keyA, id, 'scan_qr_code', (s) => s.status === 'scan_qr_code');

    // Content negotiation by the Accept header's rules: q=0 refuses, nothing acceptable is 406.
    const accepting = (accept: string) =>
      call(t.baseUrl, 'GET', path(id, '/qr'), { token: keyA, headers: { accept } });
    const refusedPng = await accepting('image/png;q=0, application/json');
    expect(refusedPng.status).toBe(200);
    expect(refusedPng.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await accepting('image/*')).headers.get('content-type')).toMatch(/^image\/png/);
    expectError(await accepting('text/html'), 406, 'validation_error');
    expectError(await accepting('image/png;q=0'), 406, 'validation_error');
    const head = await fetch(`${t.baseUrl}${path(id, '/qr')}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${keyA}` },
    });
    expect(head.status).toBe(200);

    const png = await fetch(`${t.baseUrl}${path(id, '/qr')}`, {
      headers: { authorization: `Bearer ${keyA}`, accept: 'image/png' },
    });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toMatch(/^image\/png/);
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);

    const scan = await sim().scanQr(qr.body.qr, phone);
    expect(scan).toMatchObject({ phoneNumber: phone });
    const working = await until(keyA, id, 'working', (s) => s.status === 'working');
    expect(working).toMatchObject({
      phoneNumber: phone,
      waJid: `${phone}@s.whatsapp.net`,
      waLid: scan.waLid,
    });
    expect(working.waLid).toMatch(/^\d+@lid$/);
    expect(working.lastConnectedAt).toBeGreaterThanOrEqual(created.body.createdAt);
    expect(t.expectGatewayIds).toContain(working.gatewayId);
    // The gateway the row names is the one the network sees connected for that number.
    expect((await liveConnection(phone))?.clientId).toBe(working.gatewayId);

    expectError(
      await call(t.baseUrl, 'GET', path(id, '/qr'), { token: keyA }),
      409,
      'failed_precondition',
    );
  });

  it('pairs by phone pairing code; validation comes before lookup; a paired session refuses a code', async () => {
    const phone = nextPhone();
    const created = await create(keyA, { label: 'code pairing' });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('stopped');
    const id = created.body.id as string;
    const pairingCode = (sessionId: string, body: unknown) =>
      call(t.baseUrl, 'POST', path(sessionId, '/pairing-code'), { token: keyA, body });

    for (const body of [{ phoneNumber: '+62 812-3456-7890' }, { phoneNumber: 'abc' }, {}]) {
      const bad = await pairingCode(id, body);
      expectError(bad, 400, 'validation_error');
      expect(Object.keys(bad.body.error.details.fields)).toContain('phoneNumber');
    }
    // 400 before 404: an invalid body on a session that does not exist is still a 400.
    const badMissing = await pairingCode(MISSING_ID, { phoneNumber: 'not-a-number' });
    expectError(badMissing, 400, 'validation_error');
    expect(Object.keys(badMissing.body.error.details.fields)).toContain('phoneNumber');
    expectError(await pairingCode(MISSING_ID, { phoneNumber: phone }), 404, 'not_found');
    // A refused request starts nothing.
    expect((await get(keyA, id)).body.status).toBe('stopped');

    // HEAD reports the current QR code and starts no pairing.
    const head = await fetch(`${t.baseUrl}${path(id, '/qr')}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${keyA}` },
    });
    expect(head.status).toBe(409);
    expect((await get(keyA, id)).body.status).toBe('stopped');

    const code = await pairingCode(id, { phoneNumber: phone });
    expect(code.status).toBe(200);
    expect(code.headers.get('cache-control')).toBe('no-store');
    expect(code.body).toEqual({
      code: expect.stringMatching(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/),
      expiresAt: expect.any(Number),
    });
    expect(code.body.expiresAt).toBeGreaterThan(Date.now());

    const entered = await sim().enterPairingCode(code.body.code, phone);
    expect(entered).toMatchObject({ phoneNumber: phone });
    const working = await until(keyA, id, 'working', (s) => s.status === 'working');
    expect(working).toMatchObject({ phoneNumber: phone, waJid: `${phone}@s.whatsapp.net` });
    expect(t.expectGatewayIds).toContain(working.gatewayId);

    expectError(await pairingCode(id, { phoneNumber: phone }), 409, 'failed_precondition');
    expectError(await pairingCode(id, { phoneNumber: nextPhone() }), 409, 'failed_precondition');
  });

  // --- stop / start / restart ---------------------------------------------------------------

  it(':stop keeps the pairing (idempotent); :start reconnects without re-pairing (idempotent); :restart reconnects', async () => {
    const phone = nextPhone();
    const s = await pairByQr(keyA, phone);
    const { linkedAt } = await simDevice(phone);

    const stopped = await command(keyA, s.id, 'stop');
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({
      id: s.id,
      status: 'stopped',
      gatewayId: null,
      phoneNumber: phone,
      waJid: s.waJid,
      waLid: s.waLid,
    });
    await untilNoConnection(phone);
    // Still linked on the phone: only the connection closed.
    expect(await simDevice(phone)).toMatchObject({ connected: false, linkedAt });
    expect((await get(keyA, s.id)).body).toMatchObject({
      status: 'stopped',
      gatewayId: null,
      phoneNumber: phone,
    });

    const again = await command(keyA, s.id, 'stop');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'stopped', gatewayId: null, phoneNumber: phone });

    const started = await command(keyA, s.id, 'start');
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ id: s.id, phoneNumber: phone });
    expect(['starting', 'working']).toContain(started.body.status);
    const working = await until(keyA, s.id, 'working again', (x) => x.status === 'working');
    expect(working).toMatchObject({ phoneNumber: phone, waJid: s.waJid, waLid: s.waLid });
    expect(t.expectGatewayIds).toContain(working.gatewayId);
    expect(await simDevice(phone)).toMatchObject({ connected: true, linkedAt });
    const connection = await waitFor('sim connection', () => liveConnection(phone));
    expect(connection.clientId).toBe(working.gatewayId);

    // Already started: a no-op that leaves the live connection alone.
    const noop = await command(keyA, s.id, 'start');
    expect(noop.status).toBe(200);
    expect(noop.body).toMatchObject({ status: 'working', gatewayId: working.gatewayId });
    expect((await liveConnection(phone))?.since).toBe(connection.since);

    const restarted = await command(keyA, s.id, 'restart');
    expect(restarted.status).toBe(200);
    expect(restarted.body).toMatchObject({ id: s.id, phoneNumber: phone });
    await waitFor('a new connection after :restart', async () => {
      const now = await liveConnection(phone);
      return now !== undefined && now.since > connection.since;
    });
    const afterRestart = await until(
      keyA,
      s.id,
      'working after restart',
      (x) => x.status === 'working',
    );
    expect(afterRestart).toMatchObject({ phoneNumber: phone, waJid: s.waJid });
    expect(t.expectGatewayIds).toContain(afterRestart.gatewayId);
    expect(await simDevice(phone)).toMatchObject({ connected: true, linkedAt });
    // Never two sockets on the device: the network evicted nobody.
    expect((await simConnections()).evictions.filter((e) => e.phoneNumber === phone)).toEqual([]);

    // :restart also brings back a session that is not running (the recovery path).
    expect((await command(keyA, s.id, 'stop')).body).toMatchObject({ status: 'stopped' });
    await untilNoConnection(phone);
    expect((await command(keyA, s.id, 'restart')).status).toBe(200);
    const recovered = await until(
      keyA,
      s.id,
      'working after stop + restart',
      (x) => x.status === 'working',
    );
    expect(recovered).toMatchObject({ phoneNumber: phone, waJid: s.waJid });
    expect(await simDevice(phone)).toMatchObject({ connected: true, linkedAt });
  });

  it(':start and :restart of an unpaired session are 409 and start nothing', async () => {
    const created = await create(keyA);
    const id = created.body.id as string;
    expectError(await command(keyA, id, 'start'), 409, 'failed_precondition');
    expectError(await command(keyA, id, 'restart'), 409, 'failed_precondition');
    expect((await get(keyA, id)).body).toMatchObject({ status: 'stopped', gatewayId: null });
  });

  // --- logout / delete ----------------------------------------------------------------------

  it(':logout unlinks the device and keeps the row unpaired; again is a no-op; :start then needs pairing', async () => {
    const phone = nextPhone();
    const s = await pairByQr(keyA, phone);

    const out = await command(keyA, s.id, 'logout');
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({
      id: s.id,
      status: 'stopped',
      gatewayId: null,
      phoneNumber: null,
      waJid: null,
      waLid: null,
    });
    await untilNoConnection(phone);
    await expectNoSimDevice(phone);

    const again = await command(keyA, s.id, 'logout');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'stopped', phoneNumber: null, gatewayId: null });
    expect((await get(keyA, s.id)).body).toMatchObject({
      status: 'stopped',
      phoneNumber: null,
      waJid: null,
      waLid: null,
    });
    expectError(await command(keyA, s.id, 'start'), 409, 'failed_precondition');
  });

  it(':logout of a stopped paired session still unlinks the device on the network', async () => {
    const phone = nextPhone();
    const s = await pairByQr(keyA, phone);
    expect((await command(keyA, s.id, 'stop')).status).toBe(200);
    await untilNoConnection(phone);
    await expect(simDevice(phone)).resolves.toMatchObject({ phoneNumber: phone });

    const out = await command(keyA, s.id, 'logout');
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({
      status: 'stopped',
      gatewayId: null,
      phoneNumber: null,
      waJid: null,
      waLid: null,
    });
    await expectNoSimDevice(phone);
    expect(await liveConnection(phone)).toBeUndefined();
    expect((await get(keyA, s.id)).body).toMatchObject({ status: 'stopped', phoneNumber: null });
  });

  it('DELETE of a working paired session unlinks it and removes the row (204, then 404)', async () => {
    const phone = nextPhone();
    const s = await pairByQr(keyA, phone);

    const deleted = await call(t.baseUrl, 'DELETE', path(s.id), { token: keyA });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    await untilNoConnection(phone);
    await expectNoSimDevice(phone);
    expectError(await get(keyA, s.id), 404, 'not_found');
    const list = await call(t.baseUrl, 'GET', '/api/v1/sessions', { token: keyA });
    expect(list.body.items.map((x: Session) => x.id)).not.toContain(s.id);
  });

  // --- isolation and routing ----------------------------------------------------------------

  it("every command on another organization's session is 404 and changes nothing", async () => {
    const phone = nextPhone();
    const s = await pairByQr(keyA, phone, 'org A line');
    const before = await waitFor('sim connection', () => liveConnection(phone));
    const { linkedAt } = await simDevice(phone);

    const attempts: [string, string, unknown?][] = [
      ['POST', path(s.id, ':start')],
      ['POST', path(s.id, ':stop')],
      ['POST', path(s.id, ':restart')],
      ['POST', path(s.id, ':logout')],
      ['GET', path(s.id, '/qr')],
      ['POST', path(s.id, '/pairing-code'), { phoneNumber: nextPhone() }],
      ['PATCH', path(s.id), { label: 'taken over' }],
      ['DELETE', path(s.id)],
      ['GET', path(s.id)],
    ];
    for (const [method, p, body] of attempts) {
      const res = await call(t.baseUrl, method, p, { token: keyB, body });
      expect({ call: `${method} ${p}`, status: res.status, code: res.body?.error?.code }).toEqual({
        call: `${method} ${p}`,
        status: 404,
        code: 'not_found',
      });
    }
    const listB = await call(t.baseUrl, 'GET', '/api/v1/sessions', { token: keyB });
    expect(listB.body.items.map((x: Session) => x.id)).not.toContain(s.id);

    const after = await get(keyA, s.id);
    expect(after.body).toMatchObject({
      status: 'working',
      label: 'org A line',
      gatewayId: s.gatewayId,
      phoneNumber: phone,
      waJid: s.waJid,
    });
    // Not stopped, restarted or logged out on the network either.
    expect(await liveConnection(phone)).toEqual(before);
    expect(await simDevice(phone)).toMatchObject({ connected: true, linkedAt });
  });

  it('unknown custom methods and the internal route form are 404', async () => {
    const created = await create(keyA);
    const id = created.body.id as string;
    expectError(await command(keyA, id, 'explode'), 404, 'not_found');
    // The internal form a custom method is rewritten to is not an alias: nothing routes it.
    expectError(
      await call(t.baseUrl, 'POST', path(id, '/~start'), { token: keyA }),
      404,
      'not_found',
    );
    expectError(
      await call(t.baseUrl, 'POST', path(id, '/~logout'), { token: keyA }),
      404,
      'not_found',
    );
    expect((await get(keyA, id)).body).toMatchObject({ status: 'stopped', gatewayId: null });
  });

  // --- gateways (platform admin) ------------------------------------------------------------

  it('GET /gateways: 403 for a normal key; the live gateways with capacity and sessionsHeld for an admin', async () => {
    expectError(
      await call(t.baseUrl, 'GET', '/api/v1/gateways', { token: keyA }),
      403,
      'forbidden',
    );

    const s = await pairByQr(keyA, nextPhone());
    const res = await call(t.baseUrl, 'GET', '/api/v1/gateways', { token: adminKey });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((g: { id: string }) => g.id).sort()).toEqual(
      [...t.expectGatewayIds].sort(),
    );
    for (const g of res.body.items) {
      expect(g).toMatchObject({ draining: false });
      expect(Number.isInteger(g.capacity) && g.capacity > 0).toBe(true);
      expect(Number.isInteger(g.sessionsHeld) && g.sessionsHeld >= 0).toBe(true);
    }

    // sessionsHeld agrees with what the sessions say about who holds them (heartbeats lag).
    const heldBy = async () => {
      const rows: Session[] = [];
      for (const key of [keyA, keyB]) {
        rows.push(...(await call(t.baseUrl, 'GET', '/api/v1/sessions', { token: key })).body.items);
      }
      const counts = new Map<string, number>();
      for (const r of rows)
        if (r.gatewayId) counts.set(r.gatewayId, (counts.get(r.gatewayId) ?? 0) + 1);
      return counts;
    };
    await waitFor('sessionsHeld matches the sessions held', async () => {
      const expected = await heldBy();
      const listed = (await call(t.baseUrl, 'GET', '/api/v1/gateways', { token: adminKey })).body
        .items as { id: string; sessionsHeld: number }[];
      return (
        (expected.get(s.gatewayId!) ?? 0) >= 1 &&
        listed.every((g) => g.sessionsHeld === (expected.get(g.id) ?? 0))
      );
    });
  });

  // --- distributed only: no gateway serving -------------------------------------------------

  if (transport === 'distributed') {
    describe('with every gateway stopped', () => {
      it('a command that needs a gateway is 503 unavailable, undone, and safe to retry', async () => {
        const fleet = t.fleet!;
        const phone = nextPhone();
        const paired = await pairByQr(keyA, phone);
        expect((await command(keyA, paired.id, 'stop')).status).toBe(200);
        const unpaired = (await create(keyA)).body as Session;

        await Promise.all([...fleet.gateways.values()].map((g) => g.stop('SIGTERM')));

        expectError(await command(keyA, paired.id, 'start'), 503, 'unavailable');
        // The wish to run was put back: the row is not left looking like it is starting.
        expect((await get(keyA, paired.id)).body).toMatchObject({
          status: 'stopped',
          gatewayId: null,
          phoneNumber: phone,
        });
        expectError(
          await call(t.baseUrl, 'GET', path(unpaired.id, '/qr'), { token: keyA }),
          503,
          'unavailable',
        );
        expect((await get(keyA, unpaired.id)).body).toMatchObject({ status: 'stopped' });

        // Safe to retry: once a gateway serves again, the same command goes through.
        await fleet.startGateway('gw-a');
        expect((await command(keyA, paired.id, 'start')).status).toBe(200);
        const working = await until(
          keyA,
          paired.id,
          'working on gw-a',
          (x) => x.status === 'working',
        );
        expect(working).toMatchObject({ gatewayId: 'gw-a', phoneNumber: phone });
      });
    });
  }
});
