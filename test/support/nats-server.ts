import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { freePort, waitFor } from './processes.js';

export interface ThrowawayNatsOptions {
  /** Server configuration besides port and JetStream storage (accounts, tls, …). */
  config?: string;
  /** Files written beside the configuration, by name (included files, certificates). */
  files?: Record<string, string>;
  /** The server's environment: variables its configuration references. */
  env?: Record<string, string>;
  /** How the readiness probe connects (credentials, TLS); anonymous by default. */
  probe?: Omit<NodeConnectionOptions, 'servers'>;
}

/**
 * A JetStream-enabled nats-server of a test's own, on a free port with its own store: it can
 * be stopped and started again on the same port and store, and configured with auth and TLS.
 */
export class ThrowawayNats {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'wagw-nats-'));
  private output = '';

  private constructor(
    readonly port: number,
    private readonly options: ThrowawayNatsOptions,
  ) {
    for (const [name, content] of Object.entries(options.files ?? {})) {
      writeFileSync(join(this.dir, name), content, { mode: 0o600 });
    }
    writeFileSync(
      join(this.dir, 'server.conf'),
      [
        `host: 127.0.0.1`,
        `port: ${port}`,
        `jetstream { store_dir: "${join(this.dir, 'jetstream')}" }`,
        options.config ?? '',
      ].join('\n'),
    );
  }

  static async start(options: ThrowawayNatsOptions = {}): Promise<ThrowawayNats> {
    const nats = new ThrowawayNats(await freePort(), options);
    await nats.start();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** What the server logged so far (errors, permission violations). */
  get log(): string {
    return this.output;
  }

  /** Path of a file written beside the configuration. */
  file(name: string): string {
    return join(this.dir, name);
  }

  async start(): Promise<void> {
    const child = spawn('/usr/sbin/nats-server', ['-c', join(this.dir, 'server.conf')], {
      env: { PATH: process.env.PATH ?? '', ...this.options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child = child;
    await waitFor('nats-server with JetStream ready', async () => {
      if (child.exitCode !== null)
        throw new Error(`nats-server exited with ${child.exitCode}: ${this.output}`);
      const nc = await connect({
        ...this.options.probe,
        servers: this.url,
        reconnect: false,
        timeout: 500,
      });
      try {
        return (await (await jetstreamManager(nc)).getAccountInfo()) !== undefined;
      } finally {
        await nc.close();
      }
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
