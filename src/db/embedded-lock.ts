import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';

/** Name of the lock file inside the embedded database's data folder. */
export const LOCK_FILE = 'profilegraph.pid';

/** Who holds a data folder, as written in its lock file. */
export interface LockHolder {
  pid: number;
  /** `server`, or `command <name>` for a command-line task. */
  holder: string;
}

/**
 * Raised by {@link lockDataDir} when another live process holds the folder. The message says
 * which process and what to do, e.g. `The embedded database in .data/pglite is in use by a
 * running server (pid 1234). Stop it first, or point DATABASE_URL at a real PostgreSQL.`
 */
export class EmbeddedDatabaseInUseError extends Error {
  constructor(
    /** The data folder, absolute. */
    readonly dataDir: string,
    readonly owner: LockHolder,
  ) {
    const by = owner.holder === 'server' ? 'a running server' : `a running ${owner.holder}`;
    super(
      `The embedded database in ${displayPath(dataDir)} is in use by ${by} (pid ${owner.pid}). ` + 'Stop it first, or point DATABASE_URL at a real PostgreSQL.',
    );
    this.name = 'EmbeddedDatabaseInUseError';
  }
}

/** A held lock; `release()` removes the file (idempotent, synchronous, never throws). */
export interface DataDirLock {
  /** Absolute path of the lock file. */
  path: string;
  release(): void;
}

/** Lock files this process holds (absolute paths): a lock naming our own PID but not listed here is stale. */
const held = new Set<string>();

/** `dir` relative to the working directory when inside it (`.data/pglite`), else absolute. */
function displayPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
}

/** The lock file's content, `undefined` when there is none; a garbled file reads as PID 0 (stale). */
function readLock(path: string): { text: string; owner: LockHolder } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pidLine = '', holder = 'process'] = text.split('\n');
  const pid = /^\d+$/.test(pidLine.trim()) ? Number(pidLine.trim()) : 0;
  return { text, owner: { pid, holder: holder.trim() || 'process' } };
}

/**
 * Whether `owner` of the lock file at `path` is a live process: signal 0 (`process.kill(pid, 0)`)
 * succeeds or fails with EPERM (alive, another user's); ESRCH means gone. Our own PID counts as
 * alive only when this process took the lock (after a container restart a new process may get
 * the PID of the old one).
 */
function isAlive(path: string, owner: LockHolder): boolean {
  if (owner.pid <= 0) return false;
  if (owner.pid === process.pid) return held.has(path);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Takes the lock of the embedded database's data folder `dataDir` (absolute, existing) for this
 * process: the file `dataDir/profilegraph.pid` holding `<pid>\n<holder>\n`, created atomically
 * (written to a private temporary file, then hard-linked into place, which fails when the name
 * exists, so a reader never sees a half-written lock). A lock whose PID is not running
 * (`process.kill(pid, 0)` throws ESRCH) or is unreadable is stale: `onStale` is called with a
 * line to log, the file is removed (only if unchanged since it was read) and taking is retried.
 * The lock is also removed when the process exits without `release()` (not on SIGKILL or a crash
 * of the machine: the next opener takes that stale lock over).
 *
 * A PID file rather than `proper-lockfile` (mtime-refreshed lock directories): PGlite runs
 * PostgreSQL on the main thread, so a long statement would stall the refresh timer and let a
 * second opener take a live lock; and the refusal should name the holder's PID. Known limit: two
 * processes taking over the same stale lock in the same instant may both succeed.
 *
 * Throws {@link EmbeddedDatabaseInUseError} when a live process holds the folder (this process
 * included, if it opened the folder already).
 */
export function lockDataDir(dataDir: string, holder: string, onStale: (message: string) => void = () => undefined): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${process.pid}\n${holder}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = readLock(path);
      if (!current) continue; // released between our link and our read: try again
      if (isAlive(path, current.owner) || attempt >= 3) throw new EmbeddedDatabaseInUseError(dataDir, current.owner);
      onStale(
        current.owner.pid > 0
          ? `Taking over the stale lock of the embedded database in ${displayPath(dataDir)}: pid ${current.owner.pid} (${current.owner.holder}) is not running.`
          : `Taking over the unreadable lock file ${displayPath(path)}.`,
      );
      try {
        if (readLock(path)?.text === current.text) unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  } finally {
    unlinkSync(temp);
  }
  held.add(path);
  const release = () => {
    if (!held.delete(path)) return;
    process.removeListener('exit', release);
    try {
      if (readLock(path)?.owner.pid === process.pid) unlinkSync(path);
    } catch {
      // Already gone, or the folder was removed: nothing to release.
    }
  };
  process.on('exit', release);
  return { path, release };
}
