import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { call } from '../support/api-process.js';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/processes.js';

/**
 * A pairing nobody scans ends as on WhatsApp, when its QR refs run out: the session is stopped
 * with reason `qr_timeout`, frees its pairing slot and is not retried.
 */
describe('an unscanned pairing', () => {
  // Six refs of 300 ms: Baileys gives up on an unscanned pairing after about two seconds (408).
  const fleet = new Fleet({
    simEnv: { WA_SIM_QR_TTL_MS: '300' },
    gatewayEnv: { WA_QR_TIMEOUT_MS: '300' },
    apiEnv: { ORG_MAX_PAIRING: '1' },
  });
  let token: string;

  beforeAll(async () => {
    await fleet.start(['gw-a']);
    token = await fleet.apiKey('org_qr_timeout');
  });

  afterAll(async () => {
    await fleet.stop();
  });

  it('ends stopped with reason qr_timeout, is not retried, and frees its pairing slot', async () => {
    const created = await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', {
      token,
      body: { start: true },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // The slot is taken while it pairs.
    const second = await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', {
      token,
      body: { start: true },
    });
    expect(second.status).toBe(429);

    await waitFor(
      'pairing over',
      async () => {
        const res = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${id}`, { token });
        return res.body.status === 'stopped';
      },
      20_000,
      100,
    );
    const db = new pg.Client({ connectionString: fleet.db.url });
    await db.connect();
    try {
      const { rows } = await db.query(
        'SELECT status, status_reason, desired_state, owner_id FROM sessions WHERE id = $1',
        [id],
      );
      expect(rows[0]).toEqual({
        status: 'stopped',
        status_reason: 'qr_timeout',
        desired_state: 'stopped',
        owner_id: null,
      });
    } finally {
      await db.end();
    }
    // Not retried: no new pairing connection shows up on the network.
    await new Promise((r) => setTimeout(r, 1_500));
    const { pairing } = await fleet.sim.control.connections();
    expect(pairing).toEqual([]);
    const after = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${id}`, { token });
    expect(after.body.status).toBe('stopped');

    const third = await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', {
      token,
      body: { start: true },
    });
    expect(third.status).toBe(201);
  });
});
