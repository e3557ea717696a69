import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL: PGlite served over the Postgres wire protocol on loopback. */
export interface EmbeddedPostgres {
  /** `postgres://` URL the ordinary driver connects to (127.0.0.1, ephemeral port). */
  url: string;
  /** Where the data lives: an absolute folder, or `memory://`. */
  dataDir: string;
  /** A tarball of the whole data folder (PGlite `dumpDataDir`). */
  dump(): Promise<Blob>;
  stop(): Promise<void>;
}

/**
 * Starts PGlite (WASM PostgreSQL) persisted under `dataDir` (created if missing; `memory://`
 * for a throwaway in-memory database) and serves it with `@electric-sql/pglite-socket` on an
 * ephemeral loopback port, so `@mikro-orm/postgresql` talks to it like to any server.
 *
 * PGlite is a single session: callers must keep their pool at one connection. Only one
 * process may open a given folder at a time. `loadDataDir` starts from a tarball made by
 * PGlite's `dumpDataDir()` (tests use it to skip initdb and migrations).
 */
export async function startEmbeddedPostgres(dataDir: string, options: { loadDataDir?: Blob } = {}): Promise<EmbeddedPostgres> {
  const inMemory = dataDir === 'memory://';
  const location = inMemory ? dataDir : resolve(dataDir);
  if (!inMemory) mkdirSync(location, { recursive: true });
  const db = await PGlite.create({ ...(inMemory ? {} : { dataDir: location }), ...options });
  // The service holds one connection; a few more let a CLI command or a test attach. The server
  // multiplexes them onto the single PGlite session, keeping each transaction whole.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    dataDir: location,
    dump: () => db.dumpDataDir('none'),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
