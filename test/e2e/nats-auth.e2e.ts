import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeys,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { subjects, type EventFence } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import pg from 'pg';
import { call } from '../support/api-process.js';
import { EmbeddedFleet } from '../support/embedded-fleet.js';
import { Fleet, type PairedSession, pairSessions } from '../support/fleet.js';
import { statusEvent } from '../support/gateway-events.js';
import { NatsOperator } from '../support/nats-operator.js';
import { ThrowawayNats } from '../support/nats-server.js';
import { REPO_ROOT, runNode, waitFor } from '../support/processes.js';
import { makeTlsFiles, type TlsFiles } from '../support/tls-files.js';

/**
 * NATS is not an open door: the real processes on a nats-server of the test's own that runs
 * the shipped per-role permissions (deploy/nats/wagw-accounts.conf) with passwords. The product
 * works; a client without credentials is refused; a client that can publish events (a gateway's
 * credentials) still changes no row with a forged event; a client without the right to send
 * commands cannot send one.
 */

const S = subjects('wagw');
const FOLD_DURABLE = 'api-session-fold';

interface Row {
  status: string;
  phone_number: string | null;
  epoch: string;
  claimed_by: string | null;
  organization_id: string;
}

describe('NATS with per-role credentials and permissions', () => {
  const apiPassword = randomBytes(12).toString('hex');
  const gatewayPassword = randomBytes(12).toString('hex');
  let nats: ThrowawayNats;
  let fleet: Fleet;
  let db: pg.Client;
  let token: string;
  let paired: PairedSession;
  const opened: NatsConnection[] = [];

  const urlFor = (user: string, password: string) =>
    `nats://${user}:${password}@127.0.0.1:${nats.port}`;
  const as = async (
    role: 'api' | 'gateway',
    extra: Partial<NodeConnectionOptions> = {},
  ): Promise<NatsConnection> => {
    const nc = await connect({
      servers: nats.url,
      user: role,
      pass: role === 'api' ? apiPassword : gatewayPassword,
      inboxPrefix: S.inbox(role),
      reconnect: false,
      ...extra,
    });
    opened.push(nc);
    return nc;
  };
  const row = async (id: string): Promise<Row> =>
    (
      await db.query<Row>(
        `SELECT status, phone_number, epoch, claimed_by, organization_id FROM sessions WHERE id = $1`,
        [id],
      )
    ).rows[0]!;
  /** Every event in the stream so far has been handled by the API's fold consumer. */
  const foldCaughtUp = async (): Promise<void> => {
    const jsm = await jetstreamManager(await as('api'));
    const last = (await jsm.streams.info(S.eventsStream)).state.last_seq;
    await waitFor('fold consumer caught up', async () => {
      const info = await jsm.consumers.info(S.eventsStream, FOLD_DURABLE);
      return info.ack_floor.stream_seq >= last && info.num_ack_pending === 0;
    });
  };

  beforeAll(async () => {
    nats = await ThrowawayNats.start({
      config: 'include wagw-accounts.conf',
      files: {
        'wagw-accounts.conf': readFileSync(
          join(REPO_ROOT, 'deploy/nats/wagw-accounts.conf'),
          'utf8',
        ),
      },
      // Quoted, as deploy/nats documents: nats-server parses a variable's value as config.
      env: {
        WAGW_NATS_API_PASSWORD: `"${apiPassword}"`,
        WAGW_NATS_GATEWAY_PASSWORD: `"${gatewayPassword}"`,
      },
      probe: { user: 'api', pass: apiPassword, inboxPrefix: S.inbox('api') },
    });
    // The shipped permissions name the default prefix: the fleet uses it on its own server.
    fleet = new Fleet({
      natsUrl: nats.url,
      prefix: 'wagw',
      apiEnv: { NATS_URL: urlFor('api', apiPassword) },
      gatewayEnv: { NATS_URL: urlFor('gateway', gatewayPassword) },
    });
    await fleet.start(['gw-a']);
    db = new pg.Client({ connectionString: fleet.db.url });
    await db.connect();
    token = await fleet.apiKey('org_nats_auth');
  });
  afterAll(async () => {
    await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
    await db?.end();
    await fleet?.stop();
    await nats?.remove();
  });

  it('runs the product: commands reach the gateway, events reach the API', async () => {
    paired = (await pairSessions(fleet, token, ['6285500000001']))[0]!;
    expect(paired).toMatchObject({ gatewayId: 'gw-a' });

    const toStop = (await pairSessions(fleet, token, ['6285500000002']))[0]!;
    const stop = await call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${toStop.id}:stop`, {
      token,
    });
    expect(stop.status).toBe(200);
    await waitFor('stopped', async () => (await row(toStop.id)).status === 'stopped');
    // Nothing the product does needs more than its role's permissions.
    expect(nats.log).not.toMatch(/Publish Violation|Subscription Violation/);
  });

  it('refuses a client without credentials, or with wrong ones', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(
      /Authorization Violation/,
    );
    await expect(
      connect({ servers: nats.url, user: 'api', pass: 'guess', reconnect: false }),
    ).rejects.toThrow(/Authorization Violation/);
  });

  it('stops a gateway at start, saying why, when its credentials are refused', async () => {
    const proc = runNode('apps/gateway/dist/main.js', {
      GATEWAY_ID: 'gw-wrong',
      GATEWAY_OPS_PORT: '0',
      DATABASE_URL: fleet.db.url,
      NATS_URL: urlFor('gateway', 'wrong-password'),
      AUTH_STATE_KEY: fleet.authStateKey,
      WA_NETWORK: 'sandbox',
      WA_SIM_URL: fleet.sim.controlUrl,
    });
    const code = await new Promise<number | null>((r) => proc.child.once('exit', r));
    expect(code).not.toBe(0);
    expect(proc.output()).toMatch(/Authorization Violation/);
    expect(proc.output()).not.toContain('wrong-password');
  });

  it('changes no row with an event forged by a client allowed to publish events', async () => {
    const stopped = (await pairSessions(fleet, token, ['6285500000003']))[0]!;
    await call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${stopped.id}:stop`, { token });
    await waitFor('stopped', async () => (await row(stopped.id)).status === 'stopped');
    await foldCaughtUp();

    const js = jetstream(await as('gateway'));
    const forge = async (
      sessionId: string,
      fence: EventFence,
      organizationId: string,
    ): Promise<void> => {
      const phoneNumber = '19999999999';
      const event = statusEvent({ organizationId, sessionId, fence, state: { phoneNumber } });
      await js.publish(S.event(event.type), JSON.stringify(event));
    };
    const before = new Map<string, Row>();
    for (const s of [paired, stopped]) before.set(s.id, await row(s.id));

    for (const s of [paired, stopped]) {
      const { epoch, organization_id: org } = before.get(s.id)!;
      const e = Number(epoch);
      // Another gateway, at the current epoch and far ahead in sequence.
      await forge(s.id, { gatewayId: 'gw-evil', epoch: e, seq: 1_000_000 }, org);
      // The holder's name, for another organization.
      await forge(s.id, { gatewayId: 'gw-a', epoch: e, seq: 1_000_001 }, 'org_someone_else');
      // The next epoch, which nobody has claimed yet.
      await forge(s.id, { gatewayId: 'gw-a', epoch: e + 1, seq: 1 }, org);
    }
    await foldCaughtUp();

    for (const s of [paired, stopped]) expect(await row(s.id)).toEqual(before.get(s.id));
    const shown = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${stopped.id}`, {
      token,
    });
    expect(shown.body).toMatchObject({ status: 'stopped', phoneNumber: '6285500000003' });

    // Garbage is refused at the boundary and kept, by the API, on the dead-letter stream.
    await js.publish(S.event('session.status'), JSON.stringify({ forged: true }));
    await foldCaughtUp();
    const jsm = await jetstreamManager(await as('api'));
    const dead = await jsm.streams.info(S.deadLettersStream);
    expect(dead.state.messages).toBe(1);

    // And the API's credentials cannot publish events at all.
    const apiJs = jetstream(await as('api'));
    await expect(
      apiJs.publish(S.event('session.status'), '{}', { timeout: 1_000 }),
    ).rejects.toThrow(/Permissions Violation/);
  });

  it('refuses a command from a client without the right to send commands', async () => {
    const nc = await as('gateway');
    // A Nest packet the gateway would execute, were it delivered.
    const packet = JSON.stringify({
      pattern: S.gateway('gw-a', 'session.stop'),
      data: { sessionId: paired.id },
      id: newId(),
    });
    await expect(
      nc.request(S.gateway('gw-a', 'session.stop'), packet, { timeout: 1_000 }),
    ).rejects.toThrow(/Permissions Violation/);
    await expect(nc.request(S.fleet('session.logout'), packet, { timeout: 1_000 })).rejects.toThrow(
      /Permissions Violation/,
    );

    expect(nats.log).toContain(
      `Publish Violation - User "gateway", Subject "${S.gateway('gw-a', 'session.stop')}"`,
    );

    await new Promise((r) => setTimeout(r, 500));
    expect((await row(paired.id)).status).toBe('working');
    expect(await fleet.sim.control.device(paired.phoneNumber)).toMatchObject({ connected: true });
  });
});

describe('NATS over mutual TLS, with a password, an NKey seed, and in `npm start`', () => {
  const password = `p${randomBytes(12).toString('hex')}`;
  const gatewayKey = nkeys.createUser();
  let nats: ThrowawayNats;
  let tls: TlsFiles;
  const tlsEnv = (): Record<string, string> => ({
    NATS_TLS_CA: tls.ca,
    NATS_TLS_CERT: tls.clientCert,
    NATS_TLS_KEY: tls.clientKey,
  });
  const clientTls = () => ({ caFile: tls.ca, certFile: tls.clientCert, keyFile: tls.clientKey });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wagw-tls-'));
    tls = makeTlsFiles(dir);
    writeFileSync(join(dir, 'gateway.nk'), new TextDecoder().decode(gatewayKey.getSeed()), {
      mode: 0o600,
    });
    nats = await ThrowawayNats.start({
      config: `
        tls { cert_file: "${tls.serverCert}", key_file: "${tls.serverKey}", ca_file: "${tls.ca}", verify: true }
        accounts {
          WAGW: {
            jetstream: enabled
            users: [
              { user: standalone, password: "${password}" }
              { nkey: ${gatewayKey.getPublicKey()} }
            ]
          }
        }`,
      probe: { user: 'standalone', pass: password, tls: clientTls() },
    });
  });
  afterAll(async () => {
    await nats?.remove();
    if (tls) rmSync(join(tls.ca, '..'), { recursive: true, force: true });
  });

  it('refuses a client without a certificate, and one without credentials', async () => {
    const attempt = (options: Partial<NodeConnectionOptions>) =>
      connect({ servers: nats.url, reconnect: false, timeout: 2_000, ...options }).then(
        async (nc) => {
          await nc.close();
          return 'connected';
        },
        (error: Error) => error.message,
      );
    const credentials = { user: 'standalone', pass: password };
    expect(await attempt({ ...credentials, tls: clientTls() })).toBe('connected');
    expect(await attempt({ ...credentials, tls: { caFile: tls.ca } })).not.toBe('connected');
    expect(await attempt({ tls: clientTls() })).toMatch(/Authorization Violation/);
  });

  it('runs the distributed product: the API with a password, the gateway with an NKey seed', async () => {
    const fleet = new Fleet({
      natsUrl: nats.url,
      prefix: 'mtls',
      apiEnv: { ...tlsEnv(), NATS_URL: `tls://standalone:${password}@localhost:${nats.port}` },
      gatewayEnv: {
        ...tlsEnv(),
        NATS_URL: `tls://localhost:${nats.port}`,
        NATS_NKEY_SEED_FILE: join(tls.ca, '..', 'gateway.nk'),
      },
    });
    try {
      await fleet.start(['gw-a']);
      const token = await fleet.apiKey('org_nats_mtls');
      const [session] = await pairSessions(fleet, token, ['6285500000009']);
      expect(session).toMatchObject({ gatewayId: 'gw-a' });
    } finally {
      await fleet.stop();
    }
  });

  it('runs `npm start` on that NATS: API and embedded gateway share one identity', async () => {
    const embedded = new EmbeddedFleet({
      ...tlsEnv(),
      NATS_URL: `tls://standalone:${password}@localhost:${nats.port}`,
      NATS_PREFIX: 'embedded',
    });
    try {
      await embedded.start();
      const token = await embedded.apiKey('org_nats_embedded');
      const created = await call(embedded.api.baseUrl, 'POST', '/api/v1/sessions', {
        token,
        body: { start: true },
      });
      expect(created.status).toBe(201);
      await waitFor('QR folded', async () => {
        const res = await call(embedded.api.baseUrl, 'GET', `/api/v1/sessions/${created.body.id}`, {
          token,
        });
        return res.body.status === 'scan_qr_code';
      });
      // Its messaging went through this NATS, not the in-process transport.
      const nc = await connect({
        servers: nats.url,
        user: 'standalone',
        pass: password,
        tls: clientTls(),
      });
      try {
        const info = await (
          await jetstreamManager(nc)
        ).streams.info(subjects('embedded').eventsStream);
        expect(info.state.messages).toBeGreaterThan(0);
      } finally {
        await nc.close();
      }
      expect(embedded.api.process.output()).not.toContain(password);
    } finally {
      await embedded.stop();
    }
  });
});

describe('NATS with decentralised auth: each process with its own .creds file', () => {
  const operator = new NatsOperator();
  let nats: ThrowawayNats;

  beforeAll(async () => {
    nats = await ThrowawayNats.start({
      config: operator.serverConfig(),
      files: {
        'api.creds': operator.userCreds('api'),
        'gateway.creds': operator.userCreds('gateway'),
      },
      probe: {
        authenticator: credsAuthenticator(new TextEncoder().encode(operator.userCreds('probe'))),
      },
    });
  });
  afterAll(() => nats?.remove());

  it('refuses a client without a user JWT', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(
      /Authorization Violation/,
    );
  });

  it('runs the distributed product with NATS_CREDS_FILE', async () => {
    const fleet = new Fleet({
      natsUrl: nats.url,
      prefix: 'creds',
      apiEnv: { NATS_CREDS_FILE: nats.file('api.creds') },
      gatewayEnv: { NATS_CREDS_FILE: nats.file('gateway.creds') },
    });
    try {
      await fleet.start(['gw-a']);
      const token = await fleet.apiKey('org_nats_creds');
      const [session] = await pairSessions(fleet, token, ['6285500000010']);
      expect(session).toMatchObject({ gatewayId: 'gw-a' });
    } finally {
      await fleet.stop();
    }
  });
});
