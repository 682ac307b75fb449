import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import {
  EMBEDDED_SERVER_FILE,
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from './embedded-postgres.js';

export interface OpenDatabaseOptions {
  /** Set → that Postgres; unset → the embedded PGlite database in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize: number;
  applicationName: string;
  /** `product`: owns the embedded database and migrates it. `client`: the CLI, which reuses a running product's. */
  role: 'product' | 'client';
}

export interface OpenDatabase {
  dataSource: DataSource;
  embedded: boolean;
  close(): Promise<void>;
}

export class DataDirInUseError extends Error {}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenDatabase> {
  if (options.databaseUrl) {
    const dataSource = await createDataSource({
      ...options,
      url: options.databaseUrl,
    }).initialize();
    return { dataSource, embedded: false, close: () => dataSource.destroy() };
  }
  const running = await runningEmbeddedServer(options.dataDir, options.role === 'client');
  if (running && options.role === 'product') {
    throw new DataDirInUseError(`DATA_DIR ${options.dataDir} is in use by process ${running.pid}`);
  }
  let server: EmbeddedPostgres | null = null;
  let url = running?.url ?? undefined;
  if (!url) {
    // PGlite is one connection multiplexed: allow the whole pool plus the odd extra client.
    server = await startEmbeddedPostgres({
      dataDir: options.dataDir,
      maxConnections: options.poolSize + 2,
      advertise: options.role === 'product',
    });
    url = server.url;
  }
  try {
    const dataSource = await createDataSource({ ...options, url }).initialize();
    if (server) await dataSource.runMigrations({ transaction: 'each' });
    return {
      dataSource,
      embedded: true,
      async close() {
        await dataSource.destroy();
        await server?.stop();
      },
    };
  } catch (error) {
    await server?.stop();
    throw error;
  }
}

const STARTUP_WAIT_MS = 60_000;

/**
 * The product running on `dataDir`, if any. A client (the CLI) waits while the product is still
 * opening its database; the product itself treats any live owner as "in use".
 */
async function runningEmbeddedServer(
  dataDir: string,
  waitForUrl: boolean,
): Promise<{ url: string | null; pid: number } | null> {
  const deadline = Date.now() + STARTUP_WAIT_MS;
  for (;;) {
    let info: { url: string | null; pid: number };
    try {
      info = JSON.parse(await readFile(join(dataDir, EMBEDDED_SERVER_FILE), 'utf8')) as {
        url: string | null;
        pid: number;
      };
      if (info.pid === process.pid) return null;
      process.kill(info.pid, 0);
    } catch {
      return null;
    }
    if (info.url || !waitForUrl) return info;
    if (Date.now() > deadline) {
      throw new DataDirInUseError(`process ${info.pid} has not finished opening ${dataDir}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
