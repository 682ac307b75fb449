import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { WaSimControlClient, WaSimControlError } from '@wagw/wa-sim';
import { type ApiProcess, call, cliCreateApiKey, migrate, startApiProcess } from './api-process.js';
import { freePort, type RunningProcess, runNode, waitFor } from './processes.js';
import { createTestDatabase, dropTestDatabase } from './test-database.js';

export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface SimProcess {
  process: RunningProcess;
  /** Where WhatsApp Web clients connect (Baileys' `waWebSocketUrl`). */
  webUrl: string;
  /** `http://host:port`: the control API, and what gateways get as WA_SIM_URL. */
  controlUrl: string;
  /** The sim's control API (the one typed client: libs/wa-sim). */
  control: WaSimControlClient;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The sandbox WhatsApp network (wa-sim) as its own process (`apps/wa-sim/dist/main.js`). */
export async function startSimProcess(env: Record<string, string> = {}): Promise<SimProcess> {
  const port = await freePort();
  const proc = runNode('apps/wa-sim/dist/main.js', {
    WA_SIM_PORT: String(port),
    WA_SIM_HOST: '127.0.0.1',
    ...env,
  });
  const controlUrl = `http://127.0.0.1:${port}`;
  await waitFor('wa-sim ready', async () => {
    if (proc.child.exitCode !== null)
      throw new Error(`wa-sim exited with ${proc.child.exitCode}: ${proc.output()}`);
    return (await fetch(`${controlUrl}/sim/v1/healthz`)).ok;
  });
  return {
    process: proc,
    webUrl: `ws://127.0.0.1:${port}/ws/chat`,
    controlUrl,
    control: new WaSimControlClient(controlUrl),
    stop: (signal) => proc.stop(signal),
  };
}

export interface GatewayProcess {
  id: string;
  process: RunningProcess;
  opsUrl: string;
  pid: number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * One isolated fleet: its own database (migrated), its own NATS subject prefix, a wa-sim
 * process, an API process and any number of gateway processes, all real. The gateways run the
 * real Baileys client on the sandbox (WA_NETWORK=sandbox, WA_SIM_URL): sessions must be
 * paired through the sim (`pairSessions`) to log in.
 */
export class Fleet {
  readonly prefix: string;
  readonly authStateKey = randomBytes(32).toString('base64');
  db!: { name: string; url: string };
  sim!: SimProcess;
  api!: ApiProcess;
  readonly gateways = new Map<string, GatewayProcess>();

  constructor(
    private readonly options: {
      leaseTtlMs?: number;
      /**
       * NATS of this fleet's API and gateways: a throwaway nats-server of the test's own (its
       * streams go with it); default the shared NATS_URL (this run's streams are deleted).
       */
      natsUrl?: string;
      /** NATS_PREFIX; default a fresh one per fleet (required on the shared NATS). */
      prefix?: string;
      apiEnv?: Record<string, string>;
      gatewayEnv?: Record<string, string>;
      simEnv?: Record<string, string>;
    } = {},
  ) {
    this.prefix = options.prefix ?? `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  }

  get natsUrl(): string {
    return this.options.natsUrl ?? NATS_URL;
  }

  get leaseTtlMs(): number {
    return this.options.leaseTtlMs ?? 3_000;
  }

  async start(gatewayIds: string[] = ['gw-a', 'gw-b']): Promise<this> {
    this.db = await createTestDatabase('wagw_e2e_fleet');
    await migrate(this.db.url);
    this.sim = await startSimProcess(this.options.simEnv);
    this.api = await startApiProcess(this.apiEnv());
    await Promise.all(gatewayIds.map((id) => this.startGateway(id)));
    return this;
  }

  apiEnv(): Record<string, string> {
    return {
      DATABASE_URL: this.db.url,
      NATS_URL: this.natsUrl,
      NATS_PREFIX: this.prefix,
      COMMAND_TIMEOUT_MS: '3000',
      QR_WAIT_MS: '8000',
      // Fleets pair many sessions of one organization at once; quotas have their own tests.
      ORG_MAX_SESSIONS: '100000',
      ORG_MAX_PAIRING: '100000',
      ...this.options.apiEnv,
    };
  }

  async startGateway(id: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
    const opsPort = await freePort();
    const proc = runNode('apps/gateway/dist/main.js', {
      GATEWAY_ID: id,
      GATEWAY_OPS_PORT: String(opsPort),
      DATABASE_URL: this.db.url,
      NATS_URL: this.natsUrl,
      NATS_PREFIX: this.prefix,
      AUTH_STATE_KEY: this.authStateKey,
      WA_NETWORK: 'sandbox',
      WA_SIM_URL: this.sim.controlUrl,
      LEASE_TTL_MS: String(this.leaseTtlMs),
      ...this.options.gatewayEnv,
      ...env,
    });
    const opsUrl = `http://127.0.0.1:${opsPort}`;
    await waitFor(
      `gateway ${id} ready`,
      async () => {
        if (proc.child.exitCode !== null)
          throw new Error(`gateway ${id} exited with ${proc.child.exitCode}: ${proc.output()}`);
        return (await fetch(`${opsUrl}/readyz`)).ok;
      },
      30_000,
    );
    const gateway = {
      id,
      process: proc,
      opsUrl,
      pid: proc.child.pid!,
      stop: (signal?: NodeJS.Signals) => proc.stop(signal),
    };
    this.gateways.set(id, gateway);
    return gateway;
  }

  /** An API key of a fresh organization, made with the operator CLI. */
  async apiKey(org: string, admin = false): Promise<string> {
    return (
      await cliCreateApiKey(
        { DATABASE_URL: this.db.url },
        org,
        'manage,send',
        admin ? ['--admin'] : [],
      )
    ).secret;
  }

  async restartApi(): Promise<void> {
    await this.api.stop();
    this.api = await startApiProcess(this.apiEnv());
  }

  async stop(): Promise<void> {
    for (const g of this.gateways.values()) {
      if (g.process.child.signalCode === 'SIGSTOP' || g.process.child.exitCode === null)
        g.process.child.kill('SIGCONT');
    }
    await Promise.all([...this.gateways.values()].map((g) => g.stop('SIGKILL')));
    await this.api?.stop();
    await this.sim?.stop();
    if (this.options.natsUrl === undefined) await deleteStreams(this.prefix, this.natsUrl);
    if (this.db) await dropTestDatabase(this.db.name);
  }
}

/** JetStream state survives between runs: remove what this run's prefix created. */
export async function deleteStreams(prefix: string, natsUrl = NATS_URL): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith(prefix.toUpperCase()))
        await jsm.streams.delete(stream.config.name);
    }
  } finally {
    await nc.close();
  }
}

export interface PairedSession {
  id: string;
  phoneNumber: string;
  /** The gateway it reached `working` on. */
  gatewayId: string;
}

/**
 * Creates one session per phone number (`start: true`) and pairs them all by QR through the sim,
 * in parallel, the way a user would (GET /qr, then the phone scans); resolves once every one is
 * `working` with its number.
 */
export async function pairSessions(
  fleet: Fleet,
  token: string,
  phoneNumbers: readonly string[],
): Promise<PairedSession[]> {
  return Promise.all(
    phoneNumbers.map(async (phoneNumber) => {
      const created = await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', {
        token,
        body: { start: true },
      });
      if (created.status !== 201)
        throw new Error(
          `create for ${phoneNumber}: ${created.status} ${JSON.stringify(created.body)}`,
        );
      const id = created.body.id as string;
      await waitFor(
        `${phoneNumber} scanned`,
        async () => {
          const qr = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${id}/qr`, { token });
          if (qr.status !== 200) return false;
          try {
            await fleet.sim.control.scanQr(qr.body.qr as string, phoneNumber);
            return true;
          } catch (error) {
            // A QR that rotated between the GET and the scan: read the current one again.
            if (error instanceof WaSimControlError) return false;
            throw error;
          }
        },
        30_000,
        200,
      );
      const working = await waitFor(
        `${phoneNumber} working`,
        async () => {
          const res = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${id}`, { token });
          return res.body.status === 'working' && res.body.phoneNumber === phoneNumber
            ? (res.body as { gatewayId: string })
            : null;
        },
        30_000,
        100,
      );
      return { id, phoneNumber, gatewayId: working.gatewayId };
    }),
  );
}
