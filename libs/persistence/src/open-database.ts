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
  const running = await runningEmbeddedServer(options.dataDir);
  if (running && options.role === 'product') {
    throw new DataDirInUseError(`DATA_DIR ${options.dataDir} is in use by process ${running.pid}`);
  }
  let server: EmbeddedPostgres | null = null;
  let url = running?.url;
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

async function runningEmbeddedServer(
  dataDir: string,
): Promise<{ url: string; pid: number } | null> {
  try {
    const info = JSON.parse(await readFile(join(dataDir, EMBEDDED_SERVER_FILE), 'utf8')) as {
      url: string;
      pid: number;
    };
    if (info.pid === process.pid) return null;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}
