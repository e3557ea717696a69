import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDjango } from '../src/modules/importer/django-importer.ts';
import { djangoHash, type DjangoHashAlgorithm } from './helpers/django-hashes.ts';
import { freshDatabase, type FreshDatabase } from './helpers/fresh-database.ts';
import { LOGIN, startTestServer, type TestServer } from './helpers/server.ts';

/** The tables of django.contrib.auth and contenttypes, as Django's PostgreSQL backend creates them. */
const DJANGO_DDL = `
create table django_content_type (id serial primary key, app_label varchar(100) not null, model varchar(100) not null, unique (app_label, model));
create table auth_permission (id serial primary key, name varchar(255) not null,
  content_type_id integer not null references django_content_type (id) deferrable initially deferred,
  codename varchar(100) not null, unique (content_type_id, codename));
create table auth_group (id serial primary key, name varchar(150) not null unique);
create table auth_group_permissions (id bigserial primary key,
  group_id integer not null references auth_group (id) deferrable initially deferred,
  permission_id integer not null references auth_permission (id) deferrable initially deferred, unique (group_id, permission_id));
create table auth_user (id serial primary key, password varchar(128) not null, last_login timestamptz null,
  is_superuser boolean not null, username varchar(150) not null unique, first_name varchar(150) not null,
  last_name varchar(150) not null, email varchar(254) not null, is_staff boolean not null, is_active boolean not null,
  date_joined timestamptz not null);
create table auth_user_groups (id bigserial primary key,
  user_id integer not null references auth_user (id) deferrable initially deferred,
  group_id integer not null references auth_group (id) deferrable initially deferred, unique (user_id, group_id));
create table auth_user_user_permissions (id bigserial primary key,
  user_id integer not null references auth_user (id) deferrable initially deferred,
  permission_id integer not null references auth_permission (id) deferrable initially deferred, unique (user_id, permission_id));
`;

const FORMATS: DjangoHashAlgorithm[] = [
  'pbkdf2_sha256',
  'pbkdf2_sha1',
  'argon2',
  'bcrypt_sha256',
  'bcrypt',
  'scrypt',
  'sha1',
  'md5',
  'unsalted_sha1',
  'unsalted_md5',
];
const password = (name: string) => `django secret for ${name}`;

interface DjangoRow {
  id: number;
  username: string;
  password: string;
  active?: boolean;
  staff?: boolean;
  superuser?: boolean;
  email?: string;
}

let source: FreshDatabase;
let target: FreshDatabase;
let server: TestServer;

const rows: DjangoRow[] = [
  ...FORMATS.map((format, i) => ({ id: 1000 + i, username: `Hash_${format}`, password: djangoHash(format, password(format)), email: `${format}@example.com` })),
  { id: 2001, username: 'root', password: djangoHash('pbkdf2_sha256', password('root')), superuser: true, staff: true },
  { id: 2002, username: 'editor', password: djangoHash('pbkdf2_sha256', password('editor')) },
  { id: 2003, username: 'granted', password: djangoHash('pbkdf2_sha256', password('granted')) },
  { id: 2004, username: 'sleeper', password: djangoHash('pbkdf2_sha256', password('sleeper')), active: false },
  { id: 2005, username: 'nopass', password: '!Kqm4hB2k8x0vYpW9qLrC3nT5sJ1dF6gH7jZ0aE' },
  { id: 2006, username: 'Twin', password: djangoHash('md5', password('Twin')) },
  { id: 2007, username: 'tWIN', password: djangoHash('md5', password('tWIN')) },
  { id: 2008, username: 'bademail', password: djangoHash('md5', password('bademail')), email: 'not an address' },
];

async function onSource(sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: source.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  [source, target] = await Promise.all([freshDatabase(), freshDatabase()]);
  await onSource(DJANGO_DDL);
  await onSource(`insert into django_content_type (id, app_label, model) values (1, 'auth', 'user'), (7, 'blog', 'post')`);
  await onSource(`insert into auth_permission (id, name, content_type_id, codename) values
    (1, 'Can change user', 1, 'change_user'), (40, 'Can publish post', 7, 'publish_post'), (41, 'Can feature post', 7, 'feature_post')`);
  await onSource(`insert into auth_group (id, name) values (3, 'Editors')`);
  await onSource(`insert into auth_group_permissions (group_id, permission_id) values (3, 40)`);
  for (const r of rows) {
    await onSource(
      `insert into auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, last_login)
       values ($1, $2, $3, $4, 'First', 'Last', $5, $6, $7, '2015-06-01T10:00:00Z', null)`,
      [r.id, r.password, r.superuser ?? false, r.username, r.email ?? '', r.staff ?? false, r.active ?? true],
    );
  }
  await onSource(`insert into auth_user_groups (user_id, group_id) values (2002, 3)`);
  await onSource(`insert into auth_user_user_permissions (user_id, permission_id) values (2003, 41), (2004, 41)`);
  server = await startTestServer({ DATABASE_URL: target.url, MIGRATE_ON_START: 'true', DATABASE_POOL_MAX: target.embedded ? '1' : '5' });
});

afterAll(async () => {
  await server?.close();
  await Promise.all([source?.drop(), target?.drop()]);
});

async function runCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: target.url, DATABASE_POOL_MAX: '1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr };
}

const storedPassword = async (id: number) =>
  ((await server.db.orm.em.fork().execute<{ password: string }[]>('select password from users where id = ?', [id]))[0] ?? { password: '' }).password;

describe('the Django importer', () => {
  it('imports through the CLI with a progress bar and a summary, reporting the colliding username', async () => {
    const dry = await runCli(['import:django', '--from', source.url, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Dry run (nothing written)');
    expect(await server.db.orm.em.fork().execute('select id from users where id = 2001')).toEqual([]);

    const run = await runCli(['import:django', '--from', source.url, '--batch-size', '4']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/users .*100%/);
    expect(run.stdout).toMatch(/users: +18 read, 17 new, 0 updated, 1 skipped/);
    expect(run.stdout).toMatch(/auth_user id 2007: username "tWIN" collides case-insensitively with user 2006/);
  }, 120_000);

  it('is re-runnable: a second run inserts nothing and updates what changed', async () => {
    await onSource(`update auth_user set first_name = 'Renamed' where id = 2002`);
    const report = await importDjango(server.db.orm.em.fork(), server.app.services.profileWriter, { from: source.url, batchSize: 5 });
    expect(report.users).toEqual({ total: 18, inserted: 0, updated: 17, skipped: 1 });
    const [counts] = await server.db.orm.em.fork().execute<{ users: number; groups: number; perms: number }[]>(
      `select (select count(*) from users)::int as users, (select count(*) from groups)::int as groups,
              (select count(*) from permissions where app_label = 'blog')::int as perms`,
    );
    expect(counts).toEqual({ users: 17, groups: 1, perms: 2 });
    const editor = await server.gql('{ user(id: "2002") { identifier } }');
    expect(editor.body.data.user.identifier).toBe('editor');
  });

  it('lets every imported user log in with their Django password, then stores argon2id', async () => {
    for (const format of FORMATS) {
      const id = 1000 + FORMATS.indexOf(format);
      expect(await storedPassword(id)).not.toMatch(/^\$argon2id/);
      const first = await server.gql(LOGIN, { identifier: `hash_${format}`, password: password(format) });
      expect(first.body.data?.login?.user.id, `${format}: ${first.text}`).toBe(String(id));
      expect(await storedPassword(id)).toMatch(/^\$argon2id\$v=19\$/);
      const second = await server.gql(LOGIN, { identifier: `Hash_${format}`, password: password(format) });
      expect(second.body.data?.login?.user.id, `${format} after upgrade`).toBe(String(id));
      const wrong = await server.gql(LOGIN, { identifier: `Hash_${format}`, password: 'not it' });
      expect(wrong.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    }
  });

  it('keeps unusable and inactive accounts out', async () => {
    const unusable = await server.gql(LOGIN, { identifier: 'nopass', password: password('nopass') });
    expect(unusable.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const inactive = await server.gql(LOGIN, { identifier: 'sleeper', password: password('sleeper') });
    expect(inactive.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
  });

  it('carries groups and permissions over so hasPerm answers as Django has_perm', async () => {
    const root = (await server.gql(LOGIN, { identifier: 'root', password: password('root') })).body.data.login.token;
    const check = async (id: number, perm: string) =>
      (await server.gql('query($id: ID, $p: String!) { user(id: $id) { hasPerm(perm: $p) } }', { id: String(id), p: perm }, root)).body.data.user.hasPerm;
    expect(await check(2001, 'blog.publish_post')).toBe(true); // superuser
    expect(await check(2001, 'anything.at_all')).toBe(true);
    expect(await check(2002, 'blog.publish_post')).toBe(true); // via Editors
    expect(await check(2002, 'blog.feature_post')).toBe(false);
    expect(await check(2003, 'blog.feature_post')).toBe(true); // direct
    expect(await check(2004, 'blog.feature_post')).toBe(false); // inactive
  });

  it('fills the account profile, keeps ids, and moves the id sequence past them', async () => {
    const root = (await server.gql(LOGIN, { identifier: 'root', password: password('root') })).body.data.login.token;
    const res = await server.gql('{ user(id: "2001") { account { firstName isStaff isSuperuser dateJoined } } }', {}, root);
    expect(res.body.data.user.account).toEqual({ firstName: 'First', isStaff: true, isSuperuser: true, dateJoined: '2015-06-01T10:00:00.000Z' });
    const bad = await server.gql('{ user(id: "2008") { account { email } } }', {}, root);
    expect(bad.body.data.user.account.email).toBeNull();
    const signup = await server.gql('mutation { signup(input: { identifier: "after-import", password: "a fresh passphrase 2026" }) { user { id } } }');
    expect(Number(signup.body.data.signup.user.id)).toBeGreaterThan(2008);
  });

  it('refuses a source that is not a Django database, with a clear message', async () => {
    const run = await runCli(['import:django', '--from', target.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Not a Django auth database: missing table(s) auth_user');
  }, 60_000);
});
