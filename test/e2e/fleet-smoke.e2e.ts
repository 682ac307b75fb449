import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call } from '../support/api-process.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/processes.js';

describe('fleet smoke (1 API + 2 gateways + wa-sim, NATS, Postgres)', () => {
  const fleet = new Fleet();
  let key: string;

  beforeAll(async () => {
    await fleet.start();
    key = await fleet.apiKey('org_fleet_smoke');
  });
  afterAll(() => fleet.stop());

  it('pairs by QR and reaches working on one of the gateways', async () => {
    const created = await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', {
      token: key,
      body: { start: true },
    });
    expect(created.status).toBe(201);
    const qr = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}/qr`, {
      token: key,
    });
    expect(qr.status).toBe(200);
    const scan = await fleet.sim.control.scanQr(qr.body.qr, '6281234567890');
    expect(scan).toMatchObject({ phoneNumber: '6281234567890' });
    const working = await waitFor('working', async () => {
      const res = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}`, {
        token: key,
      });
      return res.body.status === 'working' ? res.body : null;
    });
    expect(working.phoneNumber).toBe('6281234567890');
    expect(['gw-a', 'gw-b']).toContain(working.gatewayId);
  });
});
