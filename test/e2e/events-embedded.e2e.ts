import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { call } from '../support/api-process.js';
import { EmbeddedFleet } from '../support/embedded-fleet.js';
import { childPids, listeningPorts } from '../support/process-sockets.js';
import { waitFor } from '../support/processes.js';
import { SseRecorder } from '../support/sse-recorder.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * `npm run start:sandbox` (one process: PGlite, in-process transport, one gateway driving Baileys,
 * the simulated network) gives the same event semantics as the distributed setup, restarts included: positions are
 * kept in the file log in DATA_DIR, the webhook queue in the embedded database.
 */
describe('events in the embedded product (npm run start:sandbox), across a restart', () => {
  const product = new EmbeddedFleet({
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
    WEBHOOK_RETRY_BASE_MS: '300',
    WEBHOOK_RETRY_MAX_DELAY_MS: '1000',
    WEBHOOK_POLL_MS: '200',
    LOG_LEVEL: 'info',
  });
  const receiver = new WebhookReceiver();
  let key: string;
  const org = 'org_embedded_events';

  beforeAll(async () => {
    await product.start();
    await receiver.start();
    key = await product.apiKey(org);
  });

  afterAll(async () => {
    await product.stop();
    await receiver.stop();
  });

  it('embeds the sandbox: the simulator in the same process, its root key kept in DATA_DIR', async () => {
    await waitFor('the WhatsApp driver line', () =>
      Promise.resolve(product.api.process.output().includes('"msg":"WhatsApp: the sandbox')),
    );
    const line = product.api.process
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"WhatsApp: the sandbox'))!;
    expect(JSON.parse(line)).toMatchObject({
      driver: 'baileys',
      network: 'sandbox',
      sandbox: product.simControlUrl,
    });
    // One process, three ports: the API's, the simulator's (control API and WhatsApp Web) and
    // the simulator's media host (HTTPS).
    const pid = product.api.process.child.pid!;
    const media = await product.sim.mediaHost();
    const ports = [
      Number(new URL(product.api.baseUrl).port),
      Number(new URL(product.simControlUrl).port),
      Number(new URL(`https://${media.hostname}`).port),
    ];
    expect(await listeningPorts(pid)).toEqual(ports.sort((a, b) => a - b));
    expect(await childPids(pid)).toEqual([]);
    await expect(product.sim.healthz()).resolves.toMatchObject({ status: 'ok' });
    const stored = JSON.parse(
      await readFile(join(product.dataDir, 'wa-sim', 'wa-sim-root-key.json'), 'utf8'),
    ) as { publicKey: string };
    expect(stored.publicKey).toBe((await product.sim.rootKey()).publicKey);
    // The sandbox routes exist: the console's phone panel is on.
    const status = await call(product.api.baseUrl, 'GET', '/sandbox/v1/status');
    expect([status.status, status.body]).toEqual([200, { enabled: true }]);
  });

  it('an SSE client and a webhook miss nothing and repeat nothing across a restart', async () => {
    let healthy = false;
    receiver.respond = () => (healthy ? 200 : 503);
    const created = await call(product.api.baseUrl, 'POST', '/api/v1/webhooks', {
      token: key,
      body: { url: receiver.url, eventTypes: ['session.status', 'session.paired'] },
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const client = new SseRecorder(`${product.api.baseUrl}/api/v1/events`, key);
    try {
      await client.waitForOpen();

      // A session paired for real on the simulated network: starting, QR, paired, working.
      const session = await call(product.api.baseUrl, 'POST', '/api/v1/sessions', {
        token: key,
        body: { start: true },
      });
      const id = session.body.id as string;
      const qr = await call(product.api.baseUrl, 'GET', `/api/v1/sessions/${id}/qr`, {
        token: key,
      });
      expect(qr.status).toBe(200);
      // The phone scans it (Baileys on the sandbox): linked, then the session logs in.
      await expect(product.sim.scanQr(qr.body.qr, '6281111111111')).resolves.toMatchObject({
        phoneNumber: '6281111111111',
      });
      await waitFor('working event', () =>
        Promise.resolve(
          client.events.some(
            (e) => e.event.type === 'session.status' && e.event.data.status === 'working',
          ),
        ),
      );
      await waitFor('failed webhook attempts', () => Promise.resolve(receiver.requests.length > 0));
      const before = client.events.length;
      const firstPosition = client.events[0]!.position;

      // The restart: the client is told, then reconnects by itself with Last-Event-ID.
      await product.restart();
      healthy = true;
      // The gateway of the new process takes the session back: more events.
      await client.waitForEvents(before + 1, 30_000);
      expect(client.controls.map((c) => c.data.reason)).toEqual(['shutdown']);
      expect(client.opens).toBe(2);
      const positions = client.events.map((e) => e.position);
      expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
      expect(new Set(client.events.map((e) => e.event.id)).size).toBe(client.events.length);

      // A new client resuming from the first position after the restart: the file log replays.
      const replay = new SseRecorder(`${product.api.baseUrl}/api/v1/events`, key, {
        lastEventId: String(firstPosition),
      });
      try {
        await replay.waitForEvents(client.events.length - 1);
        expect(replay.events.slice(0, client.events.length - 1).map((e) => e.event.id)).toEqual(
          client.events.slice(1).map((e) => e.event.id),
        );
      } finally {
        replay.close();
      }

      // The webhook: every matching event once (by webhook-id), in order, signed.
      const wanted = client.events
        .filter((e) => ['session.status', 'session.paired'].includes(e.event.type))
        .map((e) => e.event.id);
      await waitFor('webhook deliveries', () =>
        Promise.resolve(receiver.delivered.length >= wanted.length),
      );
      expect(receiver.deliveredEvents().map((e) => e.id)).toEqual(
        wanted.slice(0, receiver.delivered.length),
      );
      const ids = receiver.delivered.map((r) => r.headers['webhook-id']);
      expect(new Set(ids).size).toBe(ids.length);
      for (const r of receiver.delivered)
        expect(() =>
          new Webhook(secret).verify(r.body, {
            'webhook-id': r.headers['webhook-id'] as string,
            'webhook-timestamp': r.headers['webhook-timestamp'] as string,
            'webhook-signature': r.headers['webhook-signature'] as string,
          }),
        ).not.toThrow();
    } finally {
      client.close();
    }
  }, 120_000);

  it('sends through the embedded database with the exact rate limit (one statement on PGlite)', async () => {
    // A session of its own (the sandbox keeps its devices in memory: the restart above
    // logged the earlier one out).
    const created = await call(product.api.baseUrl, 'POST', '/api/v1/sessions', {
      token: key,
      body: { start: true },
    });
    const id = created.body.id as string;
    await waitFor('QR', async () => {
      const qr = await call(product.api.baseUrl, 'GET', `/api/v1/sessions/${id}/qr`, {
        token: key,
      });
      if (qr.status !== 200) return false;
      await product.sim.scanQr(qr.body.qr, '6281111111112');
      return true;
    });
    await waitFor('working', async () => {
      const s = await call(product.api.baseUrl, 'GET', `/api/v1/sessions/${id}`, { token: key });
      return s.body.status === 'working';
    });
    const path = `/api/v1/sessions/${id}`;
    expect(
      (await call(product.api.baseUrl, 'PATCH', path, { token: key, body: { ratePerMin: 2 } }))
        .status,
    ).toBe(200);
    const sends = await Promise.all(
      [1, 2, 3].map((i) =>
        call(product.api.baseUrl, 'POST', `${path}/messages`, {
          token: key,
          body: { to: '6598765432', text: `embedded send ${i}` },
        }),
      ),
    );
    expect(sends.map((r) => r.status).sort()).toEqual([201, 201, 429]);
    const refused = sends.find((r) => r.status === 429)!;
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});
