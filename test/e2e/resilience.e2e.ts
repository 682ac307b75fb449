import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { type ApiProcess, call, startApiProcess } from '../support/api-process.js';
import { Fleet, type PairedSession, pairSessions } from '../support/fleet.js';
import { ThrowawayNats } from '../support/nats-server.js';
import { waitFor } from '../support/processes.js';

/**
 * Correctness does not depend on NATS or on the API being up: desired state and leases live in
 * Postgres, commands are nudges, events wait in the gateways (NATS down) or in the stream (API
 * down) until they are folded. Real API, gateway and wa-sim processes on Postgres and NATS.
 */

interface ApiSession {
  id: string;
  status: string;
  gatewayId: string | null;
  phoneNumber: string | null;
  lastConnectedAt: number | null;
}

async function getSession(baseUrl: string, token: string, id: string): Promise<ApiSession> {
  const res = await call(baseUrl, 'GET', `/api/v1/sessions/${id}`, { token });
  if (res.status !== 200) throw new Error(`GET ${id}: ${res.status}`);
  return res.body as ApiSession;
}

interface TruthRow {
  desired_state: string;
  owner_id: string | null;
  creds: boolean;
}

/** What the gateways wrote straight to Postgres (no event folding involved). */
async function truth(db: pg.Client, id: string): Promise<TruthRow> {
  const { rows } = await db.query<TruthRow>(
    `SELECT desired_state, owner_id,
            EXISTS (SELECT 1 FROM wa_auth_creds c WHERE c.session_id = s.id) AS creds
     FROM sessions s WHERE id = $1::bpchar`,
    [id],
  );
  return rows[0]!;
}

/** Three paired, working sessions: one to stop, one the phone logs out, one the network drops. */
async function pairThree(
  fleet: Fleet,
  token: string,
  prefix: string,
): Promise<{ toStop: PairedSession; toLogout: PairedSession; toDrop: PairedSession }> {
  const [toStop, toLogout, toDrop] = await pairSessions(fleet, token, [
    `${prefix}00000001`,
    `${prefix}00000002`,
    `${prefix}00000003`,
  ]);
  return { toStop: toStop!, toLogout: toLogout!, toDrop: toDrop! };
}

function openDb(fleet: Fleet): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: fleet.db.url });
  return db.connect().then(() => db);
}

describe('a lost command, and an API restart, lose nothing', () => {
  const fleet = new Fleet();
  let token: string;
  let db: pg.Client;
  let toStop: PairedSession;
  let toLogout: PairedSession;
  let toDrop: PairedSession;

  beforeAll(async () => {
    await fleet.start(['gw-a']);
    token = await fleet.apiKey('org_resilience');
    db = await openDb(fleet);
    ({ toStop, toLogout, toDrop } = await pairThree(fleet, token, '62821'));
  });
  afterAll(async () => {
    await db?.end();
    await fleet.stop();
  });

  it('honours a stop whose NATS command never reached a gateway, within one lease renewal', async () => {
    // An API replica of this fleet whose commands reach no gateway (another NATS prefix).
    let deaf: ApiProcess | null = null;
    try {
      deaf = await startApiProcess({
        ...fleet.apiEnv(),
        NATS_PREFIX: `${fleet.prefix}lost`,
        COMMAND_TIMEOUT_MS: '500',
      });
      const askedAt = Date.now();
      const stopped = await call(deaf.baseUrl, 'POST', `/api/v1/sessions/${toStop.id}:stop`, {
        token,
      });
      const answerMs = Date.now() - askedAt;
      // The desired state is recorded: the stop is accepted although no gateway confirmed it.
      expect(stopped.status).toBe(200);
      expect(stopped.body.id).toBe(toStop.id);
      expect((await truth(db, toStop.id)).desired_state).toBe('stopped');

      const renewMs = fleet.leaseTtlMs / 3;
      await waitFor(
        'the session stopped by the real gateway',
        async () => {
          const s = await getSession(fleet.api.baseUrl, token, toStop.id);
          return s.status === 'stopped' && s.gatewayId === null;
        },
        renewMs + 10_000,
        50,
      );
      const stopMs = Date.now() - askedAt;
      process.stdout.write(
        `lost stop: answered ${stopped.status} (status ${stopped.body.status}) in ${answerMs} ms, honoured ${stopMs} ms after the request (renewal every ${renewMs} ms)\n`,
      );
      expect(stopMs).toBeLessThanOrEqual(renewMs + 1_000);
      expect(await fleet.sim.control.device(toStop.phoneNumber)).toMatchObject({
        connected: false,
      });
      const row = await truth(db, toStop.id);
      expect(row).toMatchObject({ desired_state: 'stopped', owner_id: null, creds: true });
      // Stopped, not logged out: still paired.
      expect((await getSession(fleet.api.baseUrl, token, toStop.id)).phoneNumber).toBe(
        toStop.phoneNumber,
      );
    } finally {
      await deaf?.stop();
    }
  });

  it('folds the status changes that happened while the API was down once it is back', async () => {
    const droppedBefore = await getSession(fleet.api.baseUrl, token, toDrop.id);
    expect(droppedBefore.status).toBe('working');

    expect(await fleet.api.stop()).toBe(0);
    // The phone unlinks one device, the network drops the other (it reconnects).
    expect(await fleet.sim.control.logout(toLogout.phoneNumber)).toMatchObject({
      loggedOut: true,
      wasConnected: true,
    });
    expect(await fleet.sim.control.disconnect(toDrop.phoneNumber, 428)).toMatchObject({
      code: 428,
    });

    // The gateway acted while the API was down.
    await waitFor('the logout applied by the gateway', async () => {
      const row = await truth(db, toLogout.id);
      return row.desired_state === 'stopped' && row.owner_id === null && !row.creds;
    });
    await waitFor('the dropped device reconnected', async () => {
      const device = await fleet.sim.control.device(toDrop.phoneNumber);
      return device.connected && device.clientId === 'gw-a';
    });

    fleet.api = await startApiProcess(fleet.apiEnv());
    const restartedAt = Date.now();
    const [loggedOut, dropped] = await Promise.all([
      waitFor('the logout folded', async () => {
        const s = await getSession(fleet.api.baseUrl, token, toLogout.id);
        return s.status === 'stopped' && s.phoneNumber === null ? s : null;
      }),
      waitFor('the reconnect folded', async () => {
        const s = await getSession(fleet.api.baseUrl, token, toDrop.id);
        return s.status === 'working' &&
          (s.lastConnectedAt ?? 0) > (droppedBefore.lastConnectedAt ?? 0)
          ? s
          : null;
      }),
    ]);
    process.stdout.write(
      `events of the API downtime folded ${Date.now() - restartedAt} ms after its restart\n`,
    );
    expect(loggedOut.gatewayId).toBeNull();
    expect(dropped).toMatchObject({ gatewayId: 'gw-a', phoneNumber: toDrop.phoneNumber });
  });
});

describe('a NATS restart loses no status change', () => {
  let nats: ThrowawayNats;
  let fleet: Fleet;
  let token: string;
  let db: pg.Client;
  let toStop: PairedSession;
  let toLogout: PairedSession;
  let toDrop: PairedSession;

  beforeAll(async () => {
    nats = await ThrowawayNats.start();
    fleet = new Fleet({ natsUrl: nats.url });
    await fleet.start(['gw-a']);
    token = await fleet.apiKey('org_resilience_nats');
    db = await openDb(fleet);
    ({ toStop, toLogout, toDrop } = await pairThree(fleet, token, '62822'));
  });
  afterAll(async () => {
    await db?.end();
    await fleet?.stop();
    await nats?.remove();
  });

  it('converges every row to the truth once NATS is back', async () => {
    const droppedBefore = await getSession(fleet.api.baseUrl, token, toDrop.id);
    expect(droppedBefore.status).toBe('working');

    await nats.stop();
    // A stop through the API: the desired state is written, no gateway can be told.
    const askedAt = Date.now();
    const stopped = await call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${toStop.id}:stop`, {
      token,
    });
    process.stdout.write(
      `:stop with NATS down answered ${stopped.status} in ${Date.now() - askedAt} ms\n`,
    );
    expect(stopped.status).toBe(200);
    // The phone unlinks one device, the network drops another (it reconnects).
    expect(await fleet.sim.control.logout(toLogout.phoneNumber)).toMatchObject({
      loggedOut: true,
    });
    expect(await fleet.sim.control.disconnect(toDrop.phoneNumber, 428)).toMatchObject({
      code: 428,
    });

    // The gateway acted on all three without NATS.
    await waitFor('the stop applied by the gateway', async () => {
      const row = await truth(db, toStop.id);
      return (
        row.owner_id === null && !(await fleet.sim.control.device(toStop.phoneNumber)).connected
      );
    });
    await waitFor('the logout applied by the gateway', async () => {
      const row = await truth(db, toLogout.id);
      return row.desired_state === 'stopped' && row.owner_id === null && !row.creds;
    });
    await waitFor('the dropped device reconnected', async () => {
      const device = await fleet.sim.control.device(toDrop.phoneNumber);
      return device.connected && device.clientId === 'gw-a';
    });
    // Nothing could be folded meanwhile: the API still shows the old state.
    expect((await getSession(fleet.api.baseUrl, token, toLogout.id)).phoneNumber).toBe(
      toLogout.phoneNumber,
    );

    await nats.start();
    const restartedAt = Date.now();
    const [stop, loggedOut, dropped] = await Promise.all([
      waitFor(
        'the stop folded',
        async () => {
          const s = await getSession(fleet.api.baseUrl, token, toStop.id);
          return s.status === 'stopped' ? s : null;
        },
        30_000,
      ),
      waitFor(
        'the logout folded',
        async () => {
          const s = await getSession(fleet.api.baseUrl, token, toLogout.id);
          return s.status === 'stopped' && s.phoneNumber === null ? s : null;
        },
        30_000,
      ),
      waitFor(
        'the reconnect folded',
        async () => {
          const s = await getSession(fleet.api.baseUrl, token, toDrop.id);
          return s.status === 'working' &&
            (s.lastConnectedAt ?? 0) > (droppedBefore.lastConnectedAt ?? 0)
            ? s
            : null;
        },
        30_000,
      ),
    ]);
    process.stdout.write(
      `events of the NATS outage folded ${Date.now() - restartedAt} ms after its restart\n`,
    );
    expect(stop).toMatchObject({ gatewayId: null, phoneNumber: toStop.phoneNumber });
    expect(loggedOut.gatewayId).toBeNull();
    expect(dropped).toMatchObject({ gatewayId: 'gw-a', phoneNumber: toDrop.phoneNumber });
  });
});
