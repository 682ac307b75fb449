import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { SerialWireServer } from './serial-wire.server.js';

/**
 * The embedded database of `npm start`: PGlite (Postgres compiled to WASM) in this process,
 * served over the Postgres wire protocol so the same `pg` driver, TypeORM and migrations run
 * unchanged. It is served on a Unix socket inside the data directory (0700), so only the owner
 * of `DATA_DIR` can reach it. The address is written to `<dataDir>/pglite-server.json` so the
 * operator CLI reaches the running product's database instead of opening the data dir twice.
 */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export const EMBEDDED_SERVER_FILE = 'pglite-server.json';
/** Where PGlite keeps its files inside DATA_DIR; its presence means "there is a database". */
export const EMBEDDED_DATABASE_DIR = 'pglite';
const SOCKET_PORT = 5432;

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  /** Write the address file (the product, or a CLI that opened a stopped product's data). */
  advertise: boolean;
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  await ensurePrivateDirectory(dataDir);
  const infoFile = join(dataDir, EMBEDDED_SERVER_FILE);
  // Claim the directory before PGlite opens it: a CLI started meanwhile waits instead of opening it too.
  if (options.advertise) await writePrivateFile(infoFile, { url: null, pid: process.pid });
  // New files are the owner's only; PGlite's own files are made 0666, so they are narrowed below.
  process.umask(0o077);
  const db = await PGlite.create({ dataDir: join(dataDir, EMBEDDED_DATABASE_DIR) });
  await restrictTree(dataDir);
  const socketPath = join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
  await rm(socketPath, { force: true });
  const server = new SerialWireServer(db);
  try {
    await server.listen(socketPath);
  } catch (error) {
    await db.close();
    throw error;
  }
  const url = `postgres://postgres@/postgres?host=${encodeURIComponent(dataDir)}&port=${SOCKET_PORT}&sslmode=disable`;
  if (options.advertise) await writePrivateFile(infoFile, { url, pid: process.pid });
  return {
    url,
    async stop() {
      if (options.advertise) await rm(infoFile, { force: true });
      await server.close();
      await db.close();
      await rm(socketPath, { force: true });
      await restrictTree(dataDir);
    },
  };
}

/** DATA_DIR holds every API key hash and the WhatsApp auth-state key: its owner's only. */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

export async function writePrivateFile(path: string, content: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(content), { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Directories 0700, files 0600, everywhere under `dir`. */
async function restrictTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await chmod(path, 0o700);
      await restrictTree(path);
    } else if (entry.isFile()) {
      await chmod(path, 0o600);
    }
  }
}
