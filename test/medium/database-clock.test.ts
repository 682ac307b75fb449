import '../support/esm-require-shim.js';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type InProcessApi, startInProcessApi } from '../support/in-process-api.js';
import { newOrganizationId, newSession } from '../support/session-factory.js';

/**
 * Leases are written with the database's clock. Whether a gateway holds a session must be
 * decided by that clock too: an API host whose clock runs a minute ahead must not see every
 * live lease as expired (and answer `gatewayId: null`, or start a second claim).
 */
describe("the database's clock decides whether a session is held", () => {
  let api: InProcessApi;

  beforeAll(async () => {
    api = await startInProcessApi();
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await api?.close();
  });

  it('shows the holder of a live lease when the API clock is a minute ahead', async () => {
    const org = newOrganizationId();
    const token = await api.apiKey(org);
    const id = await newSession(api.dataSource, org);
    await api.dataSource.query(
      `UPDATE sessions SET owner_id = 'gw-skew/1', gateway_id = 'gw-skew', epoch = 1,
         lease_expires_at = now() + interval '10 seconds' WHERE id = $1`,
      [id],
    );
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 60_000);
    const get = async (url: string) =>
      (
        await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
      ).json<any>();
    expect((await get(`/api/v1/sessions/${id}`)).gatewayId).toBe('gw-skew');
    const listed = (await get('/api/v1/sessions')).items as { id: string; gatewayId: string }[];
    expect(listed.find((s) => s.id === id)?.gatewayId).toBe('gw-skew');
    jest.restoreAllMocks();
  });
});
