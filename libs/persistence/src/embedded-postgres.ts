import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded database of `npm start`: PGlite (Postgres compiled to WASM) in this process,
 * served over the Postgres wire protocol so the same `pg` driver, TypeORM and migrations run
 * unchanged. Its address is written to `<dataDir>/pglite-server.json` so the operator CLI can
 * reach the running product's database instead of opening the (single-process) data dir twice.
 */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export const EMBEDDED_SERVER_FILE = 'pglite-server.json';

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  maxConnections: number;
  /** Write the address file (the product); the CLI's own short-lived server does not. */
  advertise: boolean;
}): Promise<EmbeddedPostgres> {
  const pgDir = join(options.dataDir, 'pglite');
  await mkdir(pgDir, { recursive: true });
  const infoFile = join(options.dataDir, EMBEDDED_SERVER_FILE);
  // Claim the directory before PGlite opens it: a CLI started meanwhile waits instead of opening it too.
  if (options.advertise) await writeFile(infoFile, JSON.stringify({ url: null, pid: process.pid }));
  const db = await PGlite.create({ dataDir: pgDir });
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections,
  });
  await server.start();
  const port = server.getServerConn().split(':').pop();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
  if (options.advertise) await writeFile(infoFile, JSON.stringify({ url, pid: process.pid }));
  return {
    url,
    async stop() {
      if (options.advertise) await rm(infoFile, { force: true });
      await server.stop();
      await db.close();
    },
  };
}
