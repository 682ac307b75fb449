import { randomBytes } from 'node:crypto';
import { type ApiProcess, cliCreateApiKey, migrate, startApiProcess } from './api-process.js';
import { deleteStreams, NATS_URL } from './fleet.js';
import { createTestDatabase, dropTestDatabase } from './test-database.js';

/**
 * API replicas (real processes) on one fresh Postgres database and one NATS prefix, without
 * gateways: for suites about what the API serves from the events stream (SSE, webhooks).
 * Events come from the gateways' own publisher (see GatewayEventSource).
 */
export class ApiCluster {
  readonly prefix = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  db!: { name: string; url: string };
  readonly apis: ApiProcess[] = [];

  constructor(private readonly env: Record<string, string> = {}) {}

  async start(replicas = 1): Promise<this> {
    this.db = await createTestDatabase('wagw_e2e_events');
    await migrate(this.db.url);
    // One at a time: the first sets the webhook intake's starting position.
    for (let i = 0; i < replicas; i++) this.apis.push(await startApiProcess(this.apiEnv()));
    return this;
  }

  apiEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.db.url,
      NATS_URL,
      NATS_PREFIX: this.prefix,
      ...this.env,
      ...extra,
    };
  }

  /** Stops replica `i` (SIGTERM, or SIGKILL for a crash) and starts it again on the same port. */
  async restart(i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ApiProcess> {
    const old = this.apis[i]!;
    await old.process.stop(signal);
    this.apis[i] = await startApiProcess({ ...old.env });
    return this.apis[i];
  }

  async apiKey(org: string, capabilities = 'manage,send'): Promise<string> {
    return (await cliCreateApiKey({ DATABASE_URL: this.db.url }, org, capabilities)).secret;
  }

  async stop(): Promise<void> {
    await Promise.all(this.apis.map((api) => api.process.stop('SIGKILL')));
    await deleteStreams(this.prefix, NATS_URL);
    if (this.db) await dropTestDatabase(this.db.name);
  }
}
