import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaSimControlClient } from '@wagw/wa-sim';
import { type ApiProcess, call, cliCreateApiKey, startApiProcess } from './api-process.js';
import { freePort, waitFor } from './processes.js';

/** The gateway id `--embedded-gateway` runs its one worker under (unless GATEWAY_ID is set). */
export const EMBEDDED_GATEWAY_ID = 'embedded';

/**
 * What `npm run start:sandbox` runs: one `--embedded-gateway` API process with WA_NETWORK=sandbox
 * holding the API, one gateway worker (the Baileys client), the in-process transport and the
 * simulated WhatsApp network (wa-sim), on PGlite in a temp DATA_DIR. Ready once the sim answers
 * and the worker is listed as a live gateway.
 */
export class EmbeddedFleet {
  dataDir!: string;
  api!: ApiProcess;
  /** The in-process sim's control API base (`<simControlUrl>/sim/v1/...`). */
  simControlUrl!: string;
  /** The typed client of that control API: play the phone. */
  sim!: WaSimControlClient;

  constructor(private readonly env: Record<string, string> = {}) {}

  async start(): Promise<this> {
    this.dataDir = await mkdtemp(join(tmpdir(), 'wagw-embedded-fleet-'));
    const simPort = await freePort();
    this.simControlUrl = `http://127.0.0.1:${simPort}`;
    this.sim = new WaSimControlClient(this.simControlUrl);
    this.api = await startApiProcess(
      {
        DATA_DIR: this.dataDir,
        WA_SIM_PORT: String(simPort),
        WA_NETWORK: 'sandbox',
        COMMAND_TIMEOUT_MS: '3000',
        QR_WAIT_MS: '8000',
        ...this.env,
      },
      ['--embedded-gateway'],
    );
    await this.ready();
    return this;
  }

  /** Stops the product and starts it again on the same DATA_DIR and ports (what a user sees). */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.api.process.stop(signal);
    this.api = await startApiProcess({ ...this.api.env }, ['--embedded-gateway']);
    await this.ready();
  }

  private async ready(): Promise<void> {
    // The API listens before the gateway and the sim are up: wait for both.
    await waitFor(
      'embedded wa-sim ready',
      async () => (await fetch(`${this.simControlUrl}/sim/v1/healthz`)).ok,
      30_000,
    );
    const admin = await this.apiKey('org_embedded_fleet_probe', true);
    await waitFor(
      'embedded gateway live',
      async () => {
        const res = await call(this.api.baseUrl, 'GET', '/api/v1/gateways', { token: admin });
        return (
          res.status === 200 &&
          (res.body as { items: { id: string }[] }).items.some((g) => g.id === EMBEDDED_GATEWAY_ID)
        );
      },
      30_000,
    );
  }

  /** An API key of a fresh organization, made with the operator CLI while the product runs. */
  async apiKey(org: string, admin = false): Promise<string> {
    return (
      await cliCreateApiKey(
        { DATA_DIR: this.dataDir },
        org,
        'manage,send',
        admin ? ['--admin'] : [],
      )
    ).secret;
  }

  async stop(): Promise<void> {
    await this.api?.stop();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
