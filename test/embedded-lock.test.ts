import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../src/db/embedded-lock.ts';
import { uniqueIdentifier } from './helpers/server.ts';
import { outputOf, type Run } from './helpers/process.ts';

/**
 * Issue 16, finding 1: one owner of the embedded database. A real server process (`src/main.ts`,
 * the entry point `npm start` runs, here through tsx) holds a persistent embedded data folder; CLI commands on the same
 * folder refuse at once, exit 1 and write nothing. After the server stops they work, and a
 * lock left by a dead process is taken over.
 */

const PASSWORD = 'staple battery horse correct 77';

let dir: string;
let dataDir: string;
const started: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'profilegraph-lock-'));
  dataDir = join(dir, 'pglite');
});

afterAll(async () => {
  // Only the processes this file spawned, by their own PID.
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', EMBEDDED_DATA_DIR: dataDir, ...extra };
}

interface Server {
  child: ChildProcess;
  url: string;
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
  stop(): Promise<number | null>;
}

/** Spawns `src/main.ts` on the data folder and waits for its "profilegraph is serving" line. */
async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: baseEnv({ PORT: '0', HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg: string; url?: string };
      if (entry.msg === 'profilegraph is serving') resolve(entry.url!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before serving: ${stderr}`)));
  });
  return {
    child,
    url,
    async gql(query, variables) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      return res.json();
    },
    async stop() {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** Runs `src/cli/index.ts <args>` as `npm run <command>` does; stdin closed. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return outputOf(child);
}

const USER = 'query ($identifier: String!) { user(identifier: $identifier) { identifier account { isSuperuser } } }';

describe('the embedded database has one owner', () => {
  const identifier = uniqueIdentifier('root');
  const superuserEnv = { PROFILEGRAPH_SUPERUSER_IDENTIFIER: identifier, PROFILEGRAPH_SUPERUSER_PASSWORD: PASSWORD };

  it('refuses CLI commands while a server holds the folder, then lets them run once it stops', async () => {
    const server = await startServer();
    const lockFile = join(dataDir, LOCK_FILE);
    const refusal =
      `The embedded database in ${dataDir} is in use by a running server (pid ${server.child.pid}). ` +
      'Stop it first, or point DATABASE_URL at a real PostgreSQL.';

    const createsuperuser = await runCli(['createsuperuser', '--no-input'], superuserEnv);
    expect(createsuperuser.code, createsuperuser.stderr).toBe(1);
    expect(createsuperuser.stderr.trim()).toBe(refusal);
    expect(createsuperuser.stdout).toBe('');

    const seed = await runCli(['seed:demo', '--users', '5']);
    expect(seed.code, seed.stderr).toBe(1);
    expect(seed.stderr.trim()).toBe(refusal);
    expect(seed.stdout).toBe('');

    const migrate = await runCli(['db:migrate']);
    expect(migrate.code, migrate.stderr).toBe(1);
    expect(migrate.stderr.trim()).toBe(refusal);

    expect(readFileSync(lockFile, 'utf8')).toBe(`${server.child.pid}\nserver\n`);

    // The server saw no new user (nor seed:demo's "admin") and still serves.
    for (const who of [identifier, 'admin']) {
      expect(await server.gql(USER, { identifier: who })).toEqual({ data: { user: null } });
    }

    expect(await server.stop()).toBe(0);
    expect(existsSync(lockFile), 'the server removes its lock on shutdown').toBe(false);

    const after = await runCli(['createsuperuser', '--no-input'], superuserEnv);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^Superuser ".+" created \(id \d+\)\.\n$/);
    expect(existsSync(lockFile), 'the command removes its lock when done').toBe(false);
  }, 180_000);

  it('takes over a lock left by a process that is gone, and the next server sees what was written', async () => {
    const lockFile = join(dataDir, LOCK_FILE);
    // A PID that certainly ran and is certainly gone: a child of ours that has exited.
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    writeFileSync(lockFile, `${gone.pid}\nserver\n`);

    const second = uniqueIdentifier('root');
    const run = await runCli(['createsuperuser', '--no-input'], { ...superuserEnv, PROFILEGRAPH_SUPERUSER_IDENTIFIER: second });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Taking over the stale lock of the embedded database in ${dataDir}: pid ${gone.pid} (server) is not running.`);
    expect(existsSync(lockFile)).toBe(false);

    const server = await startServer();
    try {
      for (const who of [identifier, second]) {
        expect(await server.gql(USER, { identifier: who })).toEqual({ data: { user: { identifier: who, account: { isSuperuser: true } } } });
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 180_000);
});
