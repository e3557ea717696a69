import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptCredentials, type CredentialChecks, type Prompter } from '../src/cli/createsuperuser.ts';
import { sampleQuery } from '../src/cli/seed-demo.ts';
import { registryFromConfig } from '../src/schema.ts';
import { freshDatabase, type FreshDatabase } from './helpers/fresh-database.ts';
import { LOGIN, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';
import { outputOf, type Run } from './helpers/process.ts';

/**
 * The commands run as a user runs them: Node + tsx on src/cli/index.ts in a child process,
 * against a database of this file's own (an embedded PGlite served from this process, or a
 * new database on the real server), migrated by the first command (MIGRATE_ON_START).
 */

const SUPERUSER_PASSWORD = 'staple battery horse correct 77';

let fresh: FreshDatabase;

beforeAll(async () => {
  fresh = await freshDatabase();
});

afterAll(async () => {
  await fresh?.drop();
});

function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATABASE_URL: fresh.url,
    DATABASE_POOL_MAX: fresh.embedded ? '1' : '2',
    MIGRATE_ON_START: 'true',
    LOG_LEVEL: 'error',
    ...extra,
  };
}

const cliArgs = (args: string[]) => ['--import', 'tsx', 'src/cli/index.ts', ...args];

/** Runs the CLI with `args`; stdin is closed (not a terminal). */
function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, cliArgs(args), { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return outputOf(child);
}

function server(): Promise<TestServer> {
  return startTestServer({ DATABASE_URL: fresh.url, DATABASE_POOL_MAX: fresh.embedded ? '1' : '2', MIGRATE_ON_START: 'true' });
}

async function login(s: TestServer, identifier: string, password: string): Promise<{ token: string; id: string }> {
  const res = await s.gql(LOGIN, { identifier, password });
  expect(res.body.errors, res.text).toBeUndefined();
  return { token: res.body.data.login.token, id: res.body.data.login.user.id };
}

describe('createsuperuser', () => {
  const identifier = uniqueIdentifier('root');
  const email = `${identifier}@example.com`;

  it('--no-input creates an active staff superuser who can log in and holds every permission', async () => {
    const run = await runCli(['createsuperuser', '--no-input', '--identifier', identifier, '--email', email], {
      PROFILEGRAPH_SUPERUSER_PASSWORD: SUPERUSER_PASSWORD,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Superuser "${identifier}" created \\(id \\d+\\)\\.\\n$`));
    expect(run.stdout + run.stderr).not.toContain(SUPERUSER_PASSWORD);

    const s = await server();
    try {
      const { token, id } = await login(s, identifier, SUPERUSER_PASSWORD);
      const res = await s.gql(
        `query($id: ID!) {
          me { identifier account { isStaff isSuperuser isActive } mail { email } }
          user(id: $id) { hasPerm(perm: "auth.change_user") permissions }
        }`,
        { id },
        token,
      );
      expect(res.body.errors, res.text).toBeUndefined();
      expect(res.body.data.me).toEqual({ identifier, account: { isStaff: true, isSuperuser: true, isActive: true }, mail: { email } });
      expect(res.body.data.user.hasPerm).toBe(true);
      expect(res.body.data.user.permissions).toContain('auth.delete_user');
      // Signup's own session was ended; only the login above remains.
      const sessions = await s.db.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from sessions where user_id = ?', [id]);
      expect(Number(sessions[0]!.n)).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('refuses a taken identifier, a weak password and a missing password with exit code 1', async () => {
    const taken = await runCli(['createsuperuser', '--no-input', '--identifier', identifier.toUpperCase()], {
      PROFILEGRAPH_SUPERUSER_PASSWORD: SUPERUSER_PASSWORD,
    });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('already taken');

    const weak = await runCli(['createsuperuser', '--no-input'], {
      PROFILEGRAPH_SUPERUSER_IDENTIFIER: uniqueIdentifier('root'),
      PROFILEGRAPH_SUPERUSER_PASSWORD: 'short1',
    });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('The password must be at least 15 characters long.');
    expect(weak.stdout + weak.stderr).not.toContain('short1');

    const missing = await runCli(['createsuperuser', '--no-input', '--identifier', uniqueIdentifier('root')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('PROFILEGRAPH_SUPERUSER_PASSWORD');

    const noTerminal = await runCli(['createsuperuser']);
    expect(noTerminal.code).toBe(1);
    expect(noTerminal.stderr).toContain('--no-input');
  });

  const hasScript = (() => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  // A real terminal through util-linux `script` (a pseudo-terminal): each answer is typed only
  // once its prompt has been drawn, as a person would.
  it.skipIf(!hasScript)('prompts on a terminal, without echo, until the passwords match and pass the rules', async () => {
    const interactive = uniqueIdentifier('tty');
    const good = 'a long enough passphrase 31';
    const command = [process.execPath, ...cliArgs(['createsuperuser'])].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let mark = 0;
    let waiter: { pattern: RegExp; resolve: () => void } | undefined;
    const check = () => {
      if (waiter && waiter.pattern.test(stripVTControlCharacters(output.slice(mark)))) {
        const { resolve } = waiter;
        waiter = undefined;
        mark = output.length;
        resolve();
      }
    };
    child.stdout.on('data', (chunk) => ((output += chunk), check()));
    child.stderr.on('data', (chunk) => ((output += chunk), check()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const answer = async (pattern: RegExp, text: string) => {
      const seen = new Promise<void>((resolve, reject) => {
        waiter = { pattern, resolve };
        setTimeout(() => reject(new Error(`no ${pattern} in:\n${stripVTControlCharacters(output)}`)), 30_000).unref();
        check();
      });
      await seen;
      child.stdin.write(`${text}\r`);
    };
    try {
      await answer(/Identifier:/, interactive);
      await answer(/Password:/, 'short');
      await answer(/Password \(again\):/, 'short');
      await answer(/at least 15 characters[\s\S]*Password:/, good);
      await answer(/Password \(again\):/, 'something else entirely 9');
      await answer(/didn't match[\s\S]*Password:/, good);
      await answer(/Password \(again\):/, good);
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
    const text = stripVTControlCharacters(output);
    expect(text).toContain(`Superuser "${interactive}" created`);
    expect(text).not.toContain(good);
    expect(text).not.toContain('something else');

    const s = await server();
    try {
      await login(s, interactive, good);
    } finally {
      await s.close();
    }
  });

  it('asks again after a refused identifier, a mismatch, a blank or a weak password (injected prompts)', async () => {
    const answers = ['', 'taken', 'fresh', 'a', 'b', '', '', 'weak', 'weak', 'a fine passphrase 4', 'a fine passphrase 4'];
    const asked: string[] = [];
    const said: string[] = [];
    const prompter: Prompter = {
      input: async (message) => (asked.push(message), answers.shift()!),
      password: async (message) => (asked.push(message), answers.shift()!),
      say: (line) => void said.push(line),
    };
    const checks: CredentialChecks = {
      identifier: async (id) => (id === 'taken' ? 'The identifier "taken" is already taken.' : undefined),
      password: (pw) => (pw.length < 12 ? 'The password must be at least 12 characters long.' : undefined),
    };
    expect(await promptCredentials(prompter, checks)).toEqual({ identifier: 'fresh', password: 'a fine passphrase 4' });
    expect(answers).toEqual([]);
    expect(asked.filter((m) => m === 'Identifier:')).toHaveLength(3);
    expect(said).toEqual([
      'Error: The identifier must not be empty.',
      'Error: The identifier "taken" is already taken.',
      "Error: Your passwords didn't match.",
      "Error: Blank passwords aren't allowed.",
      'Error: The password must be at least 12 characters long.',
    ]);
    // A given identifier is not asked for.
    const given = ['a fine passphrase 4', 'a fine passphrase 4'];
    const onlyPasswords: Prompter = { ...prompter, input: () => Promise.reject(new Error('asked')), password: async () => given.shift()! };
    expect(await promptCredentials(onlyPasswords, checks, 'given')).toEqual({ identifier: 'given', password: 'a fine passphrase 4' });
  });

  it('--help lists the options', async () => {
    const run = await runCli(['createsuperuser', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--identifier', '--email', '--no-input', 'PROFILEGRAPH_SUPERUSER_PASSWORD']) expect(run.stdout).toContain(option);
  });
});

describe('seed:demo', () => {
  it('seeds users, profiles, a follow graph, groups and a superuser that log in with the printed password', async () => {
    const run = await runCli(['seed:demo', '--users', '30', '--seed', '7']);
    expect(run.code, run.stderr).toBe(0);
    const password = /demo password: "([^"]+)"/.exec(run.stdout)?.[1];
    const sample = /login\(identifier: "([^"]+)"/.exec(run.stdout)?.[1];
    expect(password).toBeTruthy();
    expect(sample).toMatch(/^[a-z]+\.[a-z]+1$/);
    expect(run.stdout).toMatch(/users\s+30/);
    expect(run.stdout).toMatch(/superuser\s+admin/);
    expect(run.stdout).toContain('query Demo {');

    // Same seed again: the same people, with a run tag to keep identifiers unique.
    const again = await runCli(['seed:demo', '--users', '5', '--seed', '7']);
    expect(again.code, again.stderr).toBe(0);
    const tag = /run tag "([0-9a-f]+)"/.exec(again.stdout)?.[1];
    expect(tag).toBeTruthy();
    expect(again.stdout).toContain(`login(identifier: "${sample}-${tag}"`);

    const s = await server();
    try {
      const em = s.db.orm.em.fork();
      const count = async (sql: string) => Number((await em.execute<{ n: string }[]>(sql))[0]!.n);
      expect(await count('select count(*) as n from users')).toBeGreaterThanOrEqual(31);
      expect(await count('select count(*) as n from follows')).toBeGreaterThan(0);
      for (const table of ['profile_account', 'profile_mail', 'profile_social'])
        expect(await count(`select count(*) as n from ${table}`)).toBeGreaterThanOrEqual(35);
      expect(await count("select count(*) as n from profile_mail where email like '%@example.%' and email_confirmed_at is not null")).toBeGreaterThan(0);
      // Pending follows only towards users who require confirmation.
      expect(
        await count(`select count(*) as n from follows f join profile_social s on s.user_id = f.followee_id
                      where f.status = 'PENDING' and not s.follow_requires_confirmation`),
      ).toBe(0);
      expect(
        await count(`select count(*) as n from user_groups ug join groups g on g.id = ug.group_id where g.name in ('editors', 'moderators')`),
      ).toBeGreaterThan(0);

      const { token } = await login(s, sample!, password!);
      const res = await s.gql(sampleQuery(await registryFromConfig(s.config)), {}, token);
      expect(res.body.errors, res.text).toBeUndefined();
      expect(res.body.data.me.identifier).toBe(sample);
      expect(res.body.data.users.totalCount).toBeGreaterThanOrEqual(31);
      expect(res.body.data.users.edges[0].node.account.firstName).toBeTruthy();
      expect(res.body.data.needConfirmation.totalCount).toBeGreaterThan(0);

      const admin = await login(s, 'admin', password!);
      const flags = await s.gql('{ me { account { isSuperuser isStaff } } }', {}, admin.token);
      expect(flags.body.data.me.account).toEqual({ isSuperuser: true, isStaff: true });
    } finally {
      await s.close();
    }
  });

  it('--help lists the options', async () => {
    const run = await runCli(['seed:demo', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--users', '--seed', '--follows']) expect(run.stdout).toContain(option);
  });
});

describe('--version', () => {
  it('prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = await runCli([flag]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.trim()).toBe(version);
    }
  });
});
