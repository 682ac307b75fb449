import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import {
  EMBEDDED_DATABASE_DIR,
  EMBEDDED_SERVER_FILE,
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from './embedded/embedded-postgres.js';

export interface OpenDatabaseOptions {
  /** Set → that Postgres; unset → the embedded PGlite database in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize: number;
  applicationName: string;
  statementTimeoutMs?: number;
  /** `product`: owns the embedded database and migrates it. `client`: the CLI, which reuses a running product's. */
  role: 'product' | 'client';
}

export interface OpenDatabase {
  dataSource: DataSource;
  embedded: boolean;
  close(): Promise<void>;
}

export class DataDirInUseError extends Error {}
/** The CLI found neither a running product nor an embedded database to open. */
export class NoDatabaseError extends Error {}

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
    if (options.role === 'client' && !(await holdsDatabase(options.dataDir))) {
      throw new NoDatabaseError(
        `no database: DATABASE_URL is unset and DATA_DIR ${options.dataDir} holds no embedded ` +
          'database (start the product with `npm start` first, or set DATABASE_URL)',
      );
    }
    // The CLI on a stopped product's data claims the directory too, so the product waits for it.
    server = await startEmbeddedPostgres({ dataDir: options.dataDir, advertise: true });
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

async function holdsDatabase(dataDir: string): Promise<boolean> {
  return access(join(dataDir, EMBEDDED_DATABASE_DIR, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

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
