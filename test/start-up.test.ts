import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { migrateUp } from '../src/db/migrations-tasks.ts';

/**
 * Honest start-up (issue 16): the real process, its entry point (`npm start` runs it compiled), refuses what
 * it cannot serve with one line and no stack, names what it found, and stops with its npm.
 */

const root = new URL('..', import.meta.url).pathname;
const temporary: string[] = [];
const started: ChildProcess[] = [];

afterAll(() => {
  // Only the processes these tests started, by their PIDs.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under `parent` (the project's `.scratch/` when files in it import packages), removed after the tests. */
function tempDir(parent = tmpdir()): string {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'profilegraph-start-up-'));
  temporary.push(dir);
  return dir;
}

interface Run {
  child: ChildProcess;
  /** JSON log lines seen so far (non-JSON lines, e.g. npm's banner, are skipped). */
  logs: { msg: string; pid: number; [key: string]: unknown }[];
  stderr(): string;
  /** Resolves with the first log entry whose message matches; rejects if the process exits first. */
  waitFor(msg: string | RegExp): Promise<Run['logs'][number]>;
  exited: Promise<number | null>;
}

/** Spawns `command args` in the project root with a minimal environment plus `env`. */
function run(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const logs: Run['logs'] = [];
  const waiters: { match: string | RegExp; resolve: (entry: Run['logs'][number]) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const entry = JSON.parse(line) as Run['logs'][number];
    logs.push(entry);
    for (const w of waiters) if (typeof w.match === 'string' ? entry.msg === w.match : w.match.test(entry.msg)) w.resolve(entry);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitFor: (match) =>
      new Promise((resolve, reject) => {
        const seen = logs.find((e) => (typeof match === 'string' ? e.msg === match : match.test(e.msg)));
        if (seen) return resolve(seen);
        waiters.push({ match, resolve });
        void exited.then((code) => reject(new Error(`exited with ${code} before logging ${String(match)}: ${stderr}`)));
      }),
  };
}

/** `src/main.ts` on Node with tsx's loader in-process, the entry point `npm start` runs compiled (`dist/main.js`). */
const server = (env: Record<string, string>) => run(process.execPath, ['--import', 'tsx', 'src/main.ts'], env);

/** A stack trace line (`    at fn (file:line:col)`). */
const STACK = /^\s+at /m;

describe('start-up', () => {
  it('refuses an unreachable database, naming its host and port, before serving anything', async () => {
    const start = server({ PORT: '0', DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/x' });
    expect(await start.exited).toBe(1);
    expect(start.stderr()).toMatch(/^Cannot start: Cannot reach the database at 127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
    expect(start.stderr().trim().split('\n')).toHaveLength(1);
    expect(start.stderr()).not.toMatch(STACK);
    expect(start.stderr() + JSON.stringify(start.logs)).not.toContain('hunter2');
    const messages = start.logs.map((e) => e.msg);
    expect(messages).not.toContain('database ready');
    expect(messages).not.toContain('profilegraph is serving');
  }, 30_000);

  it('with MIGRATE_ON_START=false, logs the applied migrations and refuses to start naming the pending one', async () => {
    const dataDir = tempDir();
    const committed = loadConfig({}).database.migrationsDir;
    await migrateUp(loadConfig({ EMBEDDED_DATA_DIR: dataDir }));
    // The committed migrations plus one more; inside the project, so its import of @mikro-orm/migrations resolves.
    const migrationsDir = tempDir(join(root, '.scratch'));
    cpSync(committed, migrationsDir, { recursive: true });
    writeFileSync(
      join(migrationsDir, 'Migration20991231000000_start_up_probe.ts'),
      [
        "import { Migration } from '@mikro-orm/migrations';",
        '',
        'export class Migration20991231000000_start_up_probe extends Migration {',
        "  override name = 'Migration20991231000000_start_up_probe';",
        '',
        '  override up(): void {',
        '    this.addSql(`create table "start_up_probe" ("id" int primary key);`);',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const start = server({ PORT: '0', EMBEDDED_DATA_DIR: dataDir, MIGRATIONS_DIR: migrationsDir, MIGRATE_ON_START: 'false' });
    expect(await start.exited).toBe(1);
    const stderr = start.stderr();
    expect(stderr).toMatch(/^Cannot start: 1 pending migration\(s\) not applied, and MIGRATE_ON_START is false: Migration20991231000000_start_up_probe\. /);
    expect(stderr).toContain('npm run db:migrate');
    expect(stderr).not.toMatch(STACK);
    const applied = start.logs.filter((e) => e.msg.startsWith('migration applied: ')).map((e) => e.migration);
    expect(applied).toContain('Migration20261121044002_init');
    expect(applied).not.toContain('Migration20991231000000_start_up_probe');
    expect(start.logs.filter((e) => e.msg.startsWith('migration pending: ')).map((e) => e.migration)).toEqual(['Migration20991231000000_start_up_probe']);
    expect(start.logs.map((e) => e.msg)).not.toContain('profilegraph is serving');
  }, 90_000);

  it('a SIGTERM to `npm start` ends the server process within the shutdown timeout', async () => {
    const shutdownSeconds = 5;
    const npm = run('npm', ['start'], { PORT: '0', EMBEDDED_DATA_DIR: tempDir(), SHUTDOWN_TIMEOUT_SECONDS: String(shutdownSeconds) });
    const serving = await npm.waitFor('profilegraph is serving');
    // The embedded database's address is logged in development, for psql.
    expect(npm.logs.find((e) => e.msg.startsWith('embedded database: psql postgres://postgres@127.0.0.1:'))).toBeDefined();
    const serverPid = serving.pid;
    expect(serverPid).not.toBe(npm.child.pid);
    npm.child.kill('SIGTERM');
    const deadline = Date.now() + (shutdownSeconds + 2) * 1000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(serverPid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        alive = false;
      }
    }
    if (alive) process.kill(serverPid, 'SIGKILL'); // it is ours: started by this test's npm
    expect(alive, `server process ${serverPid} still running after SIGTERM to npm`).toBe(false);
    await expect(fetch(serving.url as string)).rejects.toThrow();
    // The server's last lines may still be in the pipe when its process is gone: read to the end.
    const stdout = npm.child.stdout!;
    if (!stdout.readableEnded) await new Promise((resolve) => stdout.once('end', resolve));
    expect(npm.logs.map((e) => e.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  }, 90_000);

  it('warns about a near-miss variable name, in the server log and from the command line', async () => {
    const start = server({ PORT: '0', DATABSE_URL: 'postgres://postgres@127.0.0.1:5432/app', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' });
    expect(await start.exited).toBe(1);
    expect(start.logs.find((e) => e.msg === 'unknown variable DATABSE_URL; did you mean DATABASE_URL?')).toMatchObject({ level: 40 });

    const cli = run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', '--help'], { DATABSE_URL: 'postgres://postgres@127.0.0.1:5432/app' });
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toContain('warning: unknown variable DATABSE_URL; did you mean DATABASE_URL?');
    // Two Node processes start through tsx one after the other: slow on a loaded 2-core machine.
  }, 90_000);

  it('lists TRUSTED_PROXIES=nonsense and PORT=abc as configuration errors, without a stack', async () => {
    const start = server({ TRUSTED_PROXIES: 'nonsense', PORT: 'abc' });
    expect(await start.exited).toBe(1);
    const stderr = start.stderr();
    expect(stderr).toContain('Invalid configuration');
    expect(stderr).toContain('PORT: must be an integer from 0 to 65535, got "abc"');
    expect(stderr).toContain('TRUSTED_PROXIES: "nonsense" is not an IP address');
    expect(stderr).not.toContain('NaN');
    expect(stderr).not.toMatch(STACK);
    expect(start.logs).toEqual([]);
  }, 30_000);
});
