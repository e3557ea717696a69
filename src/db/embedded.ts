import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDir } from './embedded-lock.ts';

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

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedOptions {
  /** A tarball made by PGlite's `dumpDataDir()` to start from. */
  loadDataDir?: Blob;
  /** What opens the folder, written to its lock file: `server` (default) or `command <name>`. */
  holder?: string;
  /** Receives the line logged when a stale lock is taken over. */
  logger?: { warn(message: string): void };
}

/**
 * Starts PGlite (WASM PostgreSQL) persisted under `dataDir` (created if missing; `memory://`
 * for a throwaway in-memory database) and serves it with `@electric-sql/pglite-socket` on an
 * ephemeral loopback port, so `@mikro-orm/postgresql` talks to it like to any server.
 *
 * PGlite is a single session: callers must keep their pool at one connection. Only one
 * process may open a given folder at a time: a persistent folder is locked first
 * (`embedded-lock.ts#lockDataDir`, the PID file `profilegraph.pid` in it, released by `stop()`),
 * so a second opener (a CLI command beside a running server) throws `EmbeddedDatabaseInUseError`
 * before reading or writing anything. `memory://` takes no lock. `loadDataDir` starts from a
 * tarball made by PGlite's `dumpDataDir()` (tests use it to skip initdb and migrations).
 */
export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const { holder = 'server', logger, ...pglite } = options;
  const inMemory = dataDir === 'memory://';
  const location = inMemory ? dataDir : resolve(dataDir);
  if (!inMemory) mkdirSync(location, { recursive: true });
  const lock = inMemory ? undefined : lockDataDir(location, holder, (line) => (logger ? logger.warn(line) : console.warn(line)));
  try {
    const db = await PGlite.create({ ...(inMemory ? {} : { dataDir: location }), ...pglite });
    // The service holds one connection; a few more let a CLI command or a test attach. The server
    // multiplexes them onto the single PGlite session, keeping each transaction whole.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    try {
      await server.start();
    } catch (error) {
      await db.close();
      throw error;
    }
    return {
      url: `postgres://postgres@${server.getServerConn()}/postgres`,
      dataDir: location,
      dump: () => db.dumpDataDir('none'),
      async stop() {
        try {
          await server.stop();
          await db.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}
