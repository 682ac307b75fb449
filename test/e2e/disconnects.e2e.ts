import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type WaSimControlClient, WaSimControlError } from '@wagw/wa-sim';
import pg from 'pg';
import { call } from '../support/api-process.js';
import { Fleet, pairSessions, type PairedSession } from '../support/fleet.js';
import { waitFor } from '../support/processes.js';
import { SseRecorder } from '../support/sse-recorder.js';

/**
 * What the network does to a working session, and what the product makes of it — the real
 * Baileys client in two gateway processes, wa-sim as WhatsApp (each disconnect sent as WhatsApp
 * sends it), the API, NATS and Postgres:
 * - logout from the phone (401 device_removed) → unpaired, auth state wiped, `session.logged_out`;
 * - 440 (another connection took the device) → `failed`, lease released, never reconnected;
 * - 403 (banned) → `failed` at once, no retry;
 * - 503 / 428 / 408 → `starting` (backoff) and back to `working` on its own, still paired.
 */

const ORG = 'org_disconnects_e2e';

interface Row {
  owner_id: string | null;
  desired_state: string;
  creds: boolean;
  keys: number;
}

describe('disconnects from the network (Baileys on wa-sim, 2 gateways)', () => {
  // Pings every 2 s, so a silent network (408) is noticed after 2 + 5 s.
  const fleet = new Fleet({ gatewayEnv: { WA_KEEPALIVE_MS: '2000' } });
  let token: string;
  let db: pg.Client;
  let sim: WaSimControlClient;
  let events: SseRecorder;
  const sessions = new Map<string, PairedSession>();
  const PHONES = {
    logout: '6282300000001',
    replaced: '6282300000002',
    banned: '6282300000003',
    s503: '6282300000004',
    s428: '6282300000005',
    s408: '6282300000006',
  } as const;

  const session = (key: keyof typeof PHONES): PairedSession => sessions.get(PHONES[key])!;
  const get = async (id: string) =>
    (await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${id}`, { token })).body as {
      status: string;
      phoneNumber: string | null;
      gatewayId: string | null;
    };
  const row = async (id: string): Promise<Row> =>
    (
      await db.query<Row>(
        `SELECT owner_id, desired_state,
           EXISTS (SELECT 1 FROM wa_auth_creds c WHERE c.session_id = s.id) AS creds,
           (SELECT count(*)::int FROM wa_auth_keys k WHERE k.session_id = s.id) AS keys
         FROM sessions s WHERE id = $1::bpchar`,
        [id],
      )
    ).rows[0]!;
  const eventsOf = (id: string, type?: string) =>
    events.events
      .map((e) => e.event)
      .filter((e) => e.sessionId === id && (type === undefined || e.type === type));
  const statuses = (id: string) =>
    eventsOf(id, 'session.status').map((e) => e.data as { status: string; reason: string | null });

  beforeAll(async () => {
    await fleet.start(['gw-a', 'gw-b']);
    token = await fleet.apiKey(ORG);
    db = new pg.Client({ connectionString: fleet.db.url });
    await db.connect();
    sim = fleet.sim.control;
    events = new SseRecorder(`${fleet.api.baseUrl}/api/v1/events`, token);
    await events.waitForOpen();
    for (const s of await pairSessions(fleet, token, Object.values(PHONES)))
      sessions.set(s.phoneNumber, s);
  });
  afterAll(async () => {
    events?.close();
    await db?.end();
    await fleet.stop();
  });

  it('logout from the phone: unpaired and stopped, auth state wiped, session.logged_out, lease released', async () => {
    const s = session('logout');
    expect((await row(s.id)).creds).toBe(true);
    await sim.logout(s.phoneNumber);

    await waitFor('logged out', () =>
      Promise.resolve(eventsOf(s.id, 'session.logged_out').length > 0),
    );
    const after = await waitFor('stopped and unpaired', async () => {
      const now = await get(s.id);
      return now.status === 'stopped' && now.phoneNumber === null ? now : null;
    });
    expect(after.gatewayId).toBeNull();
    expect(await row(s.id)).toEqual({
      owner_id: null,
      desired_state: 'stopped',
      creds: false,
      keys: 0,
    });
    // The device is gone on the network too, and :start now needs a new pairing.
    await expect(sim.device(s.phoneNumber)).rejects.toBeInstanceOf(WaSimControlError);
    const start = await call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${s.id}:start`, {
      token,
    });
    expect(start.status).toBe(409);
  });

  it('440 (the device was taken by another connection): failed, lease released, never reconnected', async () => {
    const s = session('replaced');
    const evictionsBefore = (await sim.connections()).evictions.length;
    await sim.disconnect(s.phoneNumber, 440);

    await waitFor('failed', async () => (await get(s.id)).status === 'failed');
    expect(statuses(s.id).at(-1)?.reason).toMatch(/^440/);
    await waitFor('lease released', async () => (await row(s.id)).owner_id === null);
    expect(await row(s.id)).toMatchObject({ desired_state: 'stopped', creds: true });

    // Neither gateway reconnects on its own: for well past a backoff and a lease renewal, the
    // device stays without a connection and nobody evicts anybody.
    const watchUntil = Date.now() + Math.max(5_000, fleet.leaseTtlMs);
    while (Date.now() < watchUntil) {
      expect((await sim.device(s.phoneNumber)).connected).toBe(false);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await sim.connections()).evictions.length).toBe(evictionsBefore);

    // A user's :start brings it back with the stored credentials (still paired).
    const start = await call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${s.id}:start`, {
      token,
    });
    expect(start.status).toBe(200);
    const back = await waitFor('working again', async () => {
      const now = await get(s.id);
      return now.status === 'working' ? now : null;
    });
    expect(back.phoneNumber).toBe(s.phoneNumber);
  });

  it('403 (banned): failed at the next login, not retried', async () => {
    const s = session('banned');
    await sim.ban(s.phoneNumber);
    await waitFor('failed', async () => (await get(s.id)).status === 'failed');
    expect(statuses(s.id).at(-1)?.reason).toMatch(/^403/);
    await waitFor('lease released', async () => (await row(s.id)).owner_id === null);
    const startingAfterBan = statuses(s.id).filter((e) => e.status === 'starting').length;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(statuses(s.id).filter((e) => e.status === 'starting').length).toBe(startingAfterBan);
    expect((await get(s.id)).status).toBe('failed');
    // Still paired: an unban and a :start bring it back.
    await sim.unban(s.phoneNumber);
    await call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${s.id}:start`, { token });
    await waitFor('working after unban', async () => (await get(s.id)).status === 'working');
  });

  it.each([
    ['s503', 503],
    ['s428', 428],
    ['s408', 408],
  ] as const)(
    '%s: a transient close backs off, then working again, still paired',
    async (key, code) => {
      const s = session(key);
      const before = statuses(s.id).length;
      await sim.disconnect(s.phoneNumber, code);

      await waitFor(
        `starting after ${code}`,
        () =>
          Promise.resolve(
            statuses(s.id)
              .slice(before)
              .some((e) => e.status === 'starting'),
          ),
        20_000,
      );
      const starting = statuses(s.id)
        .slice(before)
        .find((e) => e.status === 'starting')!;
      expect(starting.reason).toMatch(new RegExp(`^${code}`));
      await waitFor(
        `working after ${code}`,
        () => Promise.resolve(statuses(s.id).slice(before).at(-1)?.status === 'working'),
        20_000,
      );
      // The event stream can be ahead of the session row (the API folds it): wait for both.
      const now = await waitFor('the row working', async () => {
        const row = await get(s.id);
        return row.status === 'working' ? row : null;
      });
      expect(now).toMatchObject({ status: 'working', phoneNumber: s.phoneNumber });
      expect((await row(s.id)).creds).toBe(true);
      expect((await sim.device(s.phoneNumber)).connected).toBe(true);
      expect(eventsOf(s.id, 'session.logged_out')).toHaveLength(0);
    },
  );
});
