import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call } from '../support/api-process.js';
import { Fleet, type PairedSession, pairSessions } from '../support/fleet.js';
import { waitFor } from '../support/processes.js';

/**
 * Real Baileys logins (pure-JS Signal keys): about three sessions per gateway is enough for every
 * handover to move several sessions at once, and keeps the suite short on a two-core CI runner.
 */
const SESSIONS = 9;

/**
 * A rolling restart of the whole gateway fleet, as a Kubernetes rollout does it: one gateway
 * at a time gets SIGTERM, hands its sessions to its peers and exits; a replacement (a new
 * GATEWAY_ID, as a new pod) starts once they all work again. Every session must be `working`
 * after its own handover, and no device may ever have two connections (no 440 eviction).
 */
describe(`rolling restart of 3 gateways under ${SESSIONS} working sessions`, () => {
  // The production lease TTL: a handover must not wait for a lease to expire.
  const fleet = new Fleet({ leaseTtlMs: 10_000 });
  let key: string;
  let sessions: PairedSession[];

  beforeAll(async () => {
    // One at a time: three gateways booting at once on a busy two-core machine can take long.
    await fleet.start(['gw-1']);
    await fleet.startGateway('gw-2');
    await fleet.startGateway('gw-3');
    key = await fleet.apiKey('org_rolling');
    sessions = await pairSessions(
      fleet,
      key,
      Array.from({ length: SESSIONS }, (_, i) => String(6286000000000 + i)),
    );
  }, 180_000);
  afterAll(() => fleet.stop());

  const states = async (): Promise<{ id: string; status: string; gatewayId: string }[]> =>
    Promise.all(
      sessions.map(async ({ id }) => {
        const res = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${id}`, { token: key });
        return { id, status: res.body.status as string, gatewayId: res.body.gatewayId as string };
      }),
    );

  it('hands every gateway’s sessions to its peers with no eviction and all of them working', async () => {
    const before = await states();
    expect(before.every((s) => s.status === 'working')).toBe(true);
    let next = 4;
    let handedOver = 0;
    for (const id of ['gw-1', 'gw-2', 'gw-3']) {
      const mine = (await states()).filter((s) => s.gatewayId === id).map((s) => s.id);
      handedOver += mine.length;
      const started = Date.now();
      await fleet.gateways.get(id)!.stop('SIGTERM');
      fleet.gateways.delete(id);
      // Well within a lease TTL: the sessions were handed over, not left to expire.
      const after = await waitFor(
        `${id}'s ${mine.length} sessions working on its peers`,
        async () => {
          const now = await states();
          return now.every((s) => s.status === 'working' && s.gatewayId !== id) ? now : null;
        },
        30_000,
        100,
      );
      expect(Date.now() - started).toBeLessThan(fleet.leaseTtlMs);
      expect(after.filter((s) => mine.includes(s.id)).map((s) => s.gatewayId)).not.toContain(id);
      await fleet.startGateway(`gw-${next++}`);
    }
    expect(handedOver).toBeGreaterThanOrEqual(SESSIONS);
    expect((await fleet.sim.control.connections()).evictions).toEqual([]);
    const final = await states();
    expect(final.filter((s) => s.status !== 'working')).toEqual([]);
    // Every device is connected once, by the gateway the API names for its session.
    const connections = (await fleet.sim.control.connections()).items;
    expect(connections).toHaveLength(SESSIONS);
    const byPhone = new Map(connections.map((c) => [c.phoneNumber, c.clientId]));
    for (const s of sessions) {
      const state = final.find((f) => f.id === s.id)!;
      expect(byPhone.get(s.phoneNumber)).toBe(state.gatewayId);
    }
  }, 180_000);
});
