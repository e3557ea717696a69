import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { ProfileDefinition, ProfileField } from '../src/profiles/model.ts';
import { registryFromConfig } from '../src/schema.ts';
import { freshDatabase, prepareProfileWorkspace, type FreshDatabase, type ProfileWorkspace } from './helpers/fresh-database.ts';
import { GOOD_PASSWORD, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';
import { outputOf, type Run } from './helpers/process.ts';

/**
 * Issue 16, finding 3: the README's "Add a profile" walkthrough works as written. The example
 * SDL, its file name and the shell commands are read from README.md itself; the SDL goes into
 * a temporary copy of the profiles folder (beside the shipped profiles), and each command runs
 * against temporary PROFILES_DIR / MIGRATIONS_DIR copies and a database of this file's own.
 * Nothing in the repository is written.
 */

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The text of the README section `### <title>`, up to the next heading of level 1 to 3. */
function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `### ${title}`);
  if (start < 0) throw new Error(`README.md has no section "### ${title}"`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^#{1,3} /.test(line));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

/** The bodies of the fenced code blocks of language `lang` in `markdown`, de-indented by their fence's indentation. */
function fencedBlocks(markdown: string, lang: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp(`^( *)\`\`\`${lang}\\n([\\s\\S]*?)^\\1\`\`\`$`, 'gm');
  for (const match of markdown.matchAll(fence)) {
    const indent = match[1]!.length;
    blocks.push(
      match[2]!
        .split('\n')
        .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
        .join('\n'),
    );
  }
  return blocks;
}

const walkthrough = section(readme, 'Add a profile');
const sdl = fencedBlocks(walkthrough, 'graphql');
const fileName = /`schema\/profiles\/([\w-]+\.graphql)`/.exec(walkthrough)?.[1];
const commands = fencedBlocks(walkthrough, 'sh')
  .flatMap((block) => block.split('\n'))
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

/** A value of `field`'s type that differs from its default, to write and read back. */
function sampleValue(field: ProfileField): unknown {
  switch (field.kind) {
    case 'string':
      return 'walkthrough'.slice(0, field.maxLength ?? 11);
    case 'enum':
      return field.enumValues!.find((value) => value !== field.defaultValue);
    case 'boolean':
      return field.defaultValue !== true;
    case 'int':
      return 7;
    case 'float':
      return 1.5;
    case 'email':
      return 'walkthrough@example.com';
    case 'url':
      return 'https://example.com/walkthrough';
    default:
      throw new Error(`walkthrough.test.ts has no sample value for a ${field.kind} field (${field.name}); add one`);
  }
}

/** Runs `src/cli/index.ts <args>` (what the npm scripts run) with only `env` and PATH/HOME. */
function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return outputOf(child);
}

let workspace: ProfileWorkspace;
let fresh: FreshDatabase;
let env: Record<string, string>;
let profile: ProfileDefinition;
let server: TestServer | undefined;
const migrationsBefore = new Set<string>();
let printedSchema = '';

describe('the README walkthrough "Add a profile"', () => {
  it('gives one example SDL file, named in schema/profiles/, that the tests do not use', () => {
    expect(sdl, 'one ```graphql block').toHaveLength(1);
    expect(fileName).toBeDefined();
    expect(readdirSync(join(root, 'schema/profiles'))).not.toContain(fileName);
    // Profiles the test suite installs itself (e.g. profile-lifecycle.test.ts's `pet`): the
    // README's example would collide with them when a reader adds it to schema/profiles/.
    const testProfiles = new Set<string>();
    for (const file of readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      for (const match of readFileSync(join(root, 'test', file), 'utf8').matchAll(/@profile\(name: \\?"(\w+)/g)) testProfiles.add(match[1]!);
    }
    expect(testProfiles.size).toBeGreaterThan(0);
    const name = /@profile\(name: "(\w+)"/.exec(sdl[0]!)?.[1];
    expect(name).toBeDefined();
    expect([...testProfiles]).not.toContain(name);
  });

  it('lists every command, in order: migration, codegen, migrate, start', () => {
    const at = (prefix: string) => commands.findIndex((c) => c.startsWith(prefix));
    const order = ['npm run db:migration:create -- --name ', 'npm run codegen', 'npm run db:migrate', 'npm start'].map(at);
    expect(
      order.every((i) => i >= 0),
      commands.join('\n'),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  describe('run as written', () => {
    beforeAll(async () => {
      workspace = prepareProfileWorkspace();
      for (const file of readdirSync(workspace.migrationsDir)) migrationsBefore.add(file);
      writeFileSync(join(workspace.profilesDir, fileName!), sdl[0]!);
      fresh = await freshDatabase();
      env = { PROFILES_DIR: workspace.profilesDir, MIGRATIONS_DIR: workspace.migrationsDir };
      const registry = await registryFromConfig(loadConfig(env));
      const added = registry.profiles.filter((p) => p.file === join(workspace.profilesDir, fileName!));
      expect(added, 'the example installs exactly one profile').toHaveLength(1);
      profile = added[0]!;

      for (const command of commands) {
        const npm = /^npm (?:run (\S+)|(start))(?: -- (.*))?$/.exec(command);
        if (!npm) throw new Error(`walkthrough.test.ts cannot run "${command}"; teach it how`);
        const script = npm[1] ?? npm[2]!;
        expect(scripts[script], `package.json has the script ${script}`).toBeDefined();
        const args = npm[3]?.split(/\s+/) ?? [];
        if (script === 'db:migration:create' || script === 'db:migrate') {
          const run = await runCli([script, ...args], { ...env, ...(script === 'db:migrate' ? { DATABASE_URL: fresh.url, DATABASE_POOL_MAX: '1' } : {}) });
          expect(run.code, `${command}: ${run.stderr}`).toBe(0);
        } else if (script === 'codegen') {
          // codegen = schema:print, then graphql-codegen writing src/__generated__ and test/client/__generated__
          // from the printed schema. Only the first half runs here, into a temporary file: the second
          // writes into the repository.
          const out = join(workspace.dir, 'schema.graphql');
          const run = await runCli(['schema:print', '--out', out], env);
          expect(run.code, `${command}: ${run.stderr}`).toBe(0);
          printedSchema = readFileSync(out, 'utf8');
        } else if (script === 'start') {
          // What `npm start` serves, on this file's database: no migrations applied at start.
          server = await startTestServer({ ...env, DATABASE_URL: fresh.url, MIGRATE_ON_START: 'false', DATABASE_POOL_MAX: fresh.embedded ? '1' : '5' });
        } else {
          throw new Error(`walkthrough.test.ts cannot run "${command}"; teach it how`);
        }
      }
    }, 180_000);

    afterAll(async () => {
      await server?.close();
      await fresh?.drop();
      workspace?.remove();
    });

    it('db:migration:create wrote one migration creating the profile table, and only that', () => {
      const added = readdirSync(workspace.migrationsDir).filter((file) => !migrationsBefore.has(file));
      expect(added).toHaveLength(1);
      const code = readFileSync(join(workspace.migrationsDir, added[0]!), 'utf8');
      expect(code).toContain(`create table "${profile.table}"`);
      expect(code).not.toMatch(/profile_(mail|account|social)\b/);
    });

    it('the schema codegen reads has the new User field', () => {
      expect(printedSchema).toMatch(new RegExp(`\\b${profile.name}: ${profile.typeName}!`));
      expect(printedSchema).toContain(`input ${profile.typeName}Input`);
    });

    it('a new user signs up writing the profile and reads it back; an older one reads the defaults', async () => {
      const writable = profile.fields.filter((field) => !field.readonly);
      const input = Object.fromEntries(writable.map((field) => [field.name, sampleValue(field)]));
      const selection = `${profile.name} { ${profile.fields.map((field) => field.name).join(' ')} }`;
      const signup = `mutation ($identifier: String!, $password: String!, $profiles: ProfilesInput) {
        signup(input: { identifier: $identifier, password: $password, profiles: $profiles }) { token }
      }`;

      const writer = await server!.gql(signup, { identifier: uniqueIdentifier('walk'), password: GOOD_PASSWORD, profiles: { [profile.name]: input } });
      expect(writer.body.errors, writer.text).toBeUndefined();
      const mine = await server!.gql(`{ me { ${selection} } }`, {}, writer.body.data.signup.token);
      expect(mine.body, mine.text).toEqual({ data: { me: { [profile.name]: expect.objectContaining(input) } } });

      const other = await server!.gql(signup, { identifier: uniqueIdentifier('walk'), password: GOOD_PASSWORD });
      expect(other.body.errors, other.text).toBeUndefined();
      const defaults = await server!.gql(`{ me { ${selection} } }`, {}, other.body.data.signup.token);
      const expected = Object.fromEntries(profile.fields.map((field) => [field.name, field.defaultValue ?? null]));
      expect(defaults.body, defaults.text).toEqual({ data: { me: { [profile.name]: expected } } });
    });
  });
});
