import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDataSource } from '@wagw/persistence';
import type { DataSource } from 'typeorm';
import { call } from '../support/api-process.js';
import { Fleet } from '../support/fleet.js';
import { ThrowawayNats } from '../support/nats-server.js';
import { waitFor } from '../support/processes.js';
import { newOrganizationId, newSessions, readLeases } from '../support/session-factory.js';

/**
 * Readiness tells a load balancer or an orchestrator the truth about NATS: the API is not ready
 * while it cannot reach NATS, and a gateway is not ready (and takes no new session) while its
 * unpublished events pile up past the high-water mark. Real processes on a NATS of the test's
 * own, stopped and started again.
 */

const HIGH_WATER_MARK = 20;

describe('readiness and NATS', () => {
  let nats: ThrowawayNats;
  let fleet: Fleet;
  let ds: DataSource;

  const probe = async (url: string) => {
    const res = await call(url, 'GET', '/readyz');
    return { status: res.status, body: res.body as Record<string, any> };
  };
  const gatewayUrl = () => fleet.gateways.get('gw-a')!.opsUrl;

  beforeAll(async () => {
    nats = await ThrowawayNats.start();
    fleet = new Fleet({
      natsUrl: nats.url,
      gatewayEnv: { EVENTS_HIGH_WATER_MARK: String(HIGH_WATER_MARK) },
    });
    await fleet.start(['gw-a']);
    ds = await createDataSource({
      url: fleet.db.url,
      poolSize: 1,
      applicationName: 'wagw-readiness',
    }).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await fleet?.stop();
    await nats?.remove();
  });

  it('the API is not ready while NATS is unreachable, and ready again once it is back', async () => {
    expect(await probe(fleet.api.baseUrl)).toEqual({
      status: 200,
      body: { status: 'ok', checks: { database: 'ok', nats: 'ok' } },
    });

    await nats.stop();
    const down = await waitFor('API not ready', async () => {
      const res = await probe(fleet.api.baseUrl);
      return res.status === 503 ? res : null;
    });
    expect(down.body.error).toMatchObject({
      code: 'unavailable',
      details: { checks: { database: 'ok', nats: 'failing' } },
    });

    await nats.start();
    await waitFor('API ready again', async () => (await probe(fleet.api.baseUrl)).status === 200);
  });

  it('a gateway whose events pile up is not ready and claims nothing new until they drain', async () => {
    expect((await probe(gatewayUrl())).status).toBe(200);
    await nats.stop();

    // Sessions to hold: their events (starting, QR, ...) cannot be published. Unpaired on
    // purpose: claiming them and pairing (Baileys asking the sim for QR codes) is all this needs,
    // so no login with creds is involved.
    const org = newOrganizationId();
    const held = await newSessions(ds, org, 15);
    await waitFor('claimed while NATS is down', async () =>
      [...(await readLeases(ds, held)).values()].every((l) => l.ownerId?.startsWith('gw-a/')),
    );
    const backlogged = await waitFor('gateway not ready', async () => {
      const res = await probe(gatewayUrl());
      return res.status === 503 ? res : null;
    });
    expect(backlogged.body.error.details.checks).toMatchObject({ events: 'failing' });
    const metrics = await (await fetch(`${gatewayUrl()}/metrics`)).text();
    const pending = Number(/^gateway_events_pending (\d+)/m.exec(metrics)?.[1]);
    expect(pending).toBeGreaterThanOrEqual(HIGH_WATER_MARK);

    // New work waits: several claim periods pass and nothing more is taken.
    const later = await newSessions(ds, org, 5);
    await new Promise((r) => setTimeout(r, 3_000));
    for (const lease of (await readLeases(ds, later)).values()) expect(lease.ownerId).toBeNull();

    // NATS is back: the backlog drains, the gateway is ready and claims again.
    await nats.start();
    await waitFor('gateway ready again', async () => (await probe(gatewayUrl())).status === 200);
    await waitFor(
      'new sessions claimed',
      async () =>
        [...(await readLeases(ds, later)).values()].every((l) => l.ownerId?.startsWith('gw-a/')),
      15_000,
    );
  });
});
