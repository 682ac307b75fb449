import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import { startWaSim, type WaSimServer } from './wa-sim.server.js';

/**
 * The sim's server and the control API's generic behaviour: endpoints, validation envelopes,
 * 404s, JSON parsing, body-less POSTs, housekeeping. No client links here; pairing, logins,
 * messages and channels with the real Baileys client are in test/medium/wa-sim-web.test.ts and
 * test/medium/wa-sim-messaging.test.ts.
 */

async function api(
  sim: WaSimServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`${sim.controlUrl}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A QR shaped as Baileys shows it: ref, noise key, identity key, ADV secret. */
function webQr(ref = '2@unknownref'): string {
  const key = Buffer.alloc(32, 1).toString('base64');
  return `https://wa.me/settings/linked_devices#${ref},${key},${key},${key}`;
}

/** Resolves with the HTTP status a WebSocket upgrade on `url` is refused with. */
function upgradeStatus(url: string): Promise<number | undefined> {
  const ws = new WebSocket(url);
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('error', () => resolve(undefined));
  });
}

function openSocket(url: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('error', reject);
  });
}

describe('wa-sim server and control API', () => {
  let sim: WaSimServer;

  beforeAll(async () => {
    sim = await startWaSim({ port: 0 });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('listens on an ephemeral port: WhatsApp Web at /ws/chat, healthz with the counts', async () => {
    expect(sim.webUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/);
    expect(sim.controlUrl).toBe(sim.webUrl.replace(/^ws:/, 'http:').replace('/ws/chat', ''));
    const res = await api(sim, 'GET', '/sim/v1/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      connections: 0,
      linked: 0,
      devices: 0,
      pairing: 0,
      memory: {
        rssBytes: expect.any(Number),
        heapUsedBytes: expect.any(Number),
        externalBytes: expect.any(Number),
      },
    });
    expect((await api(sim, 'GET', '/sim/v1/root-key')).body).toEqual({
      publicKey: sim.rootPublicKey,
    });
  });

  it('serves WebSocket upgrades only at /ws/chat: the retired /ws and anything else get 404', async () => {
    expect(await upgradeStatus(sim.webUrl)).toBe(101);
    expect(await upgradeStatus(sim.webUrl.replace('/ws/chat', '/ws'))).toBe(404);
    expect(await upgradeStatus(sim.webUrl.replace('/ws/chat', '/other'))).toBe(404);
  });

  it('lists no connections, devices, inbox or presences before anything linked', async () => {
    expect((await api(sim, 'GET', '/sim/v1/connections')).body).toEqual({
      items: [],
      pairing: [],
      evictions: [],
    });
    expect((await api(sim, 'GET', '/sim/v1/devices')).body).toEqual({ items: [] });
    expect((await api(sim, 'GET', '/sim/v1/devices/6281100000009/messages')).body).toEqual({
      items: [],
    });
    expect((await api(sim, 'GET', '/sim/v1/devices/6281100000009/presences')).body).toEqual({
      items: [],
    });
  });

  it('takes body-less POSTs, with or without a JSON content type', async () => {
    const phone = '6281100000010';
    // `curl -X POST -H 'content-type: application/json'` with no data.
    const empty = await fetch(`${sim.controlUrl}/sim/v1/devices/${phone}:ban`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '',
    });
    expect(empty.status).toBe(200);
    // Any number can be banned, linked or not.
    expect(await empty.json()).toEqual({ phoneNumber: phone, banned: true, wasConnected: false });
    expect((await api(sim, 'POST', `/sim/v1/devices/${phone}:unban`)).body).toEqual({
      phoneNumber: phone,
      banned: false,
    });
    expect((await api(sim, 'POST', `/sim/v1/devices/${phone}/messages:read`)).body).toEqual({
      read: 0,
    });
  });

  it('posts to a channel nobody follows: 201, delivered to none', async () => {
    const res = await api(sim, 'POST', '/sim/v1/channels/120363000000000009@newsletter/posts', {
      text: 'anyone?',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^3EB0[0-9A-F]{20}$/),
      timestamp: expect.any(Number),
      delivered: 0,
      queued: 0,
    });
  });

  describe('validation', () => {
    const cases: [string, string, string, unknown, string[]][] = [
      ['scan without body', 'POST', '/sim/v1/qr:scan', undefined, ['body', 'qr', 'phoneNumber']],
      [
        'scan with bad fields',
        'POST',
        '/sim/v1/qr:scan',
        { qr: 'hello', phoneNumber: '+62811' },
        ['qr', 'phoneNumber'],
      ],
      [
        'scan of a retired wa-sim/1 QR',
        'POST',
        '/sim/v1/qr:scan',
        { qr: 'SIM-QR:abc', phoneNumber: '6281100000001' },
        ['qr'],
      ],
      [
        'unknown field',
        'POST',
        '/sim/v1/qr:scan',
        { qr: webQr(), phoneNumber: '6281100000001', x: 1 },
        ['x'],
      ],
      [
        'bad pairing code',
        'POST',
        '/sim/v1/pairing-codes:enter',
        { code: 'AB', phoneNumber: '6281100000001' },
        ['code'],
      ],
      [
        'message without text',
        'POST',
        '/sim/v1/messages',
        { from: '6281100000001', to: '6281100000002' },
        ['text'],
      ],
      ['message body is an array', 'POST', '/sim/v1/messages', [1], ['body', 'from', 'to', 'text']],
      [
        'message with a bad addressing',
        'POST',
        '/sim/v1/messages',
        { from: '6281100000001', to: '6281100000002', text: 'x', addressing: 'jid' },
        ['addressing'],
      ],
      [
        'message content not an object',
        'POST',
        '/sim/v1/messages',
        { from: '6281100000001', to: '6281100000002', content: 'x' },
        ['content'],
      ],
      [
        'disconnect code out of range',
        'POST',
        '/sim/v1/devices/6281100000001:disconnect',
        { code: 200 },
        ['code'],
      ],
      [
        'a body where the action takes none',
        'POST',
        '/sim/v1/devices/6281100000001:logout',
        { code: 401 },
        ['code'],
      ],
      ['bad phone in path', 'POST', '/sim/v1/devices/62-811:logout', undefined, ['phoneNumber']],
      ['bad channel jid', 'POST', '/sim/v1/channels/not-a-channel/posts', { text: 'x' }, ['jid']],
      [
        'post without text',
        'POST',
        '/sim/v1/channels/120363000000000001@newsletter/posts',
        {},
        ['text'],
      ],
      ['follow without jid', 'POST', '/sim/v1/devices/6281100000001/channels', {}, ['jid']],
      [
        'unfollow a bad jid',
        'DELETE',
        '/sim/v1/devices/6281100000001/channels/nope',
        undefined,
        ['jid'],
      ],
      [
        'read ids not strings',
        'POST',
        '/sim/v1/devices/6281100000001/messages:read',
        { ids: [1] },
        ['ids'],
      ],
      ['bad phone on GET', 'GET', '/sim/v1/devices/abc/messages', undefined, ['phoneNumber']],
      ['bad phone on presences', 'GET', '/sim/v1/devices/1/presences', undefined, ['phoneNumber']],
    ];
    it.each(cases)(
      '%s → 400 validation_error naming the fields',
      async (_name, method, path, body, fields) => {
        const res = await api(sim, method, path, body);
        expect(res.status).toBe(400);
        const error = res.body['error'] as {
          code: string;
          details: { fields: Record<string, string> };
        };
        expect(error.code).toBe('validation_error');
        expect(Object.keys(error.details.fields).sort()).toEqual([...fields].sort());
      },
    );

    it('answers malformed JSON with 400 validation_error', async () => {
      const bad = await fetch(`${sim.controlUrl}/sim/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"from":',
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({
        error: {
          code: 'validation_error',
          message: 'the body is not valid JSON',
          details: { fields: { body: 'invalid JSON' } },
        },
      });
    });
  });

  it('answers unknown routes, devices, messages, QRs and codes with 404 in the envelope', async () => {
    const unlinked = '6281100000001';
    const notFound: [string, string, unknown][] = [
      ['GET', '/sim/v1/nope', undefined],
      ['POST', `/sim/v1/devices/${unlinked}:explode`, undefined],
      ['GET', `/sim/v1/devices/${unlinked}`, undefined],
      ['POST', `/sim/v1/devices/${unlinked}:logout`, undefined],
      ['POST', `/sim/v1/devices/${unlinked}:disconnect`, { code: 503 }],
      ['POST', '/sim/v1/messages', { from: '6281100000002', to: unlinked, text: 'x' }],
      [
        'POST',
        '/sim/v1/messages',
        { from: '6281100000002', to: unlinked, content: { type: 'text', text: 'x' } },
      ],
      ['GET', '/sim/v1/messages/3EB0NOPE', undefined],
      ['POST', `/sim/v1/devices/${unlinked}/channels`, { jid: '120363000000000001@newsletter' }],
      ['DELETE', `/sim/v1/devices/${unlinked}/channels/120363000000000001@newsletter`, undefined],
      ['POST', '/sim/v1/qr:scan', { qr: webQr(), phoneNumber: unlinked }],
      ['POST', '/sim/v1/pairing-codes:enter', { code: 'ABCD-EFGH', phoneNumber: unlinked }],
    ];
    for (const [method, path, body] of notFound) {
      const res = await api(sim, method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(res.body).toEqual({
        error: { code: 'not_found', message: expect.any(String), details: expect.any(Object) },
      });
    }
    const device = await api(sim, 'GET', `/sim/v1/devices/${unlinked}`);
    expect(device.body).toEqual({
      error: {
        code: 'not_found',
        message: 'no linked device for this phone number',
        details: { phoneNumber: unlinked },
      },
    });
    const action = await api(sim, 'POST', `/sim/v1/devices/${unlinked}:explode`);
    expect(action.body).toMatchObject({
      error: { details: { actions: ['disconnect', 'logout', 'ban', 'unban'] } },
    });
  });
});

describe('wa-sim housekeeping', () => {
  it('cuts a socket that never starts the Noise handshake after helloTimeoutMs', async () => {
    const sim = await startWaSim({ port: 0, helloTimeoutMs: 60 });
    try {
      const { closed } = await openSocket(sim.webUrl);
      const started = Date.now();
      await closed;
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await api(sim, 'GET', '/sim/v1/healthz')).body).toMatchObject({ connections: 0 });
    } finally {
      await sim.close();
    }
  });

  it('counts open sockets, and closes them on shutdown', async () => {
    const sim = await startWaSim({ port: 0 });
    const { closed } = await openSocket(sim.webUrl);
    expect((await api(sim, 'GET', '/sim/v1/healthz')).body).toMatchObject({ connections: 1 });
    await sim.close();
    await expect(closed).resolves.toEqual(expect.any(Number));
  });

  it('refuses bad options', async () => {
    await expect(startWaSim({ port: 0, qrTtlMs: 0 })).rejects.toThrow('qrTtlMs');
    await expect(startWaSim({ port: 0, qrMaxRefs: -1 })).rejects.toThrow('qrMaxRefs');
  });
});
