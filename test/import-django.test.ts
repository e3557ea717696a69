import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDjango } from '../src/modules/importer/django-importer.ts';
import { CaptureTransport } from '../src/modules/mail/mailer.ts';
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

/** django-allauth's address table, as its migrations create it. */
const ALLAUTH_DDL = `
create table account_emailaddress (id serial primary key, email varchar(254) not null, verified boolean not null,
  "primary" boolean not null, user_id integer not null references auth_user (id) deferrable initially deferred,
  unique (user_id, email));
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
const REQUEST_RESET = 'mutation($i: String!) { requestPasswordReset(identifier: $i) }';
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
let allauth: FreshDatabase;
let target: FreshDatabase;
let server: TestServer;
const mail = new CaptureTransport();

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

async function onSource(sql: string, params: unknown[] = [], db = source) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Users of the allauth source: `auth_user.email`, and their `account_emailaddress` rows. */
const allauthUsers: { id: number; username: string; email: string; addresses: { email: string; verified: boolean; primary: boolean }[] }[] = [
  { id: 3001, username: 'ada_one', email: 'Ada@Example.com', addresses: [{ email: 'Ada@Example.com', verified: true, primary: true }] },
  {
    id: 3002,
    username: 'moved',
    email: 'old-moved@example.com',
    addresses: [
      { email: 'old-moved@example.com', verified: true, primary: false },
      { email: 'new-moved@example.com', verified: true, primary: true },
    ],
  },
  { id: 3003, username: 'unverified', email: 'unverified@example.com', addresses: [{ email: 'unverified@example.com', verified: false, primary: true }] },
  { id: 3004, username: 'no_rows', email: 'no-rows@example.com', addresses: [] },
  { id: 3009, username: 'ada_two', email: 'ada@example.com', addresses: [{ email: 'ada@example.com', verified: true, primary: true }] },
  { id: 3011, username: 'ada_three', email: 'ada@example.com', addresses: [] },
  { id: 3010, username: 'latecomer', email: 'taken@example.com', addresses: [{ email: 'taken@example.com', verified: true, primary: true }] },
];

async function fillAllauthSource() {
  await onSource(DJANGO_DDL + ALLAUTH_DDL, [], allauth);
  for (const u of allauthUsers) {
    await onSource(
      `insert into auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
       values ($1, $2, false, $3, 'First', 'Last', $4, false, true, '2016-03-01T10:00:00Z')`,
      [u.id, djangoHash('pbkdf2_sha256', password(u.username)), u.username, u.email],
      allauth,
    );
    for (const a of u.addresses)
      await onSource(
        `insert into account_emailaddress (user_id, email, verified, "primary") values ($1, $2, $3, $4)`,
        [u.id, a.email, a.verified, a.primary],
        allauth,
      );
  }
}

beforeAll(async () => {
  [source, allauth, target] = await Promise.all([freshDatabase(), freshDatabase(), freshDatabase()]);
  await fillAllauthSource();
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
  server = await startTestServer(
    { DATABASE_URL: target.url, MIGRATE_ON_START: 'true', DATABASE_POOL_MAX: target.embedded ? '1' : '5' },
    { mailTransport: mail },
  );
});

afterAll(async () => {
  await server?.close();
  await Promise.all([source?.drop(), allauth?.drop(), target?.drop()]);
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
    expect(run.stdout).toContain('emails:           mail.email and account.email; no allauth table (auth_user.email)');
    expect(run.stdout).not.toContain('shared by several users');
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

  it('writes auth_user.email where the data bag\'s email key lives, so data(key: "email") answers it', async () => {
    const root = (await server.gql(LOGIN, { identifier: 'root', password: password('root') })).body.data.login.token;
    const res = await server.gql(
      '{ user(id: "1007") { email: data(key: "email") confirmed: data(key: "emailConfirmedAt") mail { email } account { email } } }',
      {},
      root,
    );
    expect(res.body.data.user).toEqual({
      email: 'md5@example.com',
      confirmed: null,
      mail: { email: 'md5@example.com' },
      account: { email: 'md5@example.com' },
    });
    const bad = await server.gql('{ user(id: "2008") { email: data(key: "email") } }', {}, root);
    expect(bad.body.data.user.email).toBeNull();
  });

  it('mails a password reset to an imported user', async () => {
    const res = await server.gql(REQUEST_RESET, { i: 'Hash_md5' });
    expect(res.body.data.requestPasswordReset).toBe(true);
    const sent = await mail.waitFor((m) => m.to === 'md5@example.com' && m.template === 'passwordReset');
    expect(sent.text).toMatch(/reset-password\?token=/);
  });

  it('refuses a source that is not a Django database, with a clear message', async () => {
    const run = await runCli(['import:django', '--from', target.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Not a Django auth database: missing table(s) auth_user');
  }, 60_000);
});

const ADDRESSES = `query($id: ID) { user(id: $id) {
  email: data(key: "email") confirmedAt: data(key: "emailConfirmedAt") mail { email emailConfirmedAt } account { email } } }`;

describe('the Django importer with django-allauth addresses', () => {
  let root: string;
  let startedBefore: number;
  let finishedAfter: number;
  let holderId: string;
  const addresses = async (id: number) => (await server.gql(ADDRESSES, { id: String(id) }, root)).body.data.user;

  beforeAll(async () => {
    root = (await server.gql(LOGIN, { identifier: 'root', password: password('root') })).body.data.login.token;
    // An account of this service already holds the address the last Django user brings.
    const signup = await server.gql(
      'mutation($e: EmailAddress) { signup(input: { identifier: "native-holder", password: "a fresh passphrase 2026", profiles: { mail: { email: $e } } }) { user { id } } }',
      { e: 'taken@example.com' },
    );
    holderId = signup.body.data.signup.user.id;
  });

  it('imports through the CLI and lists addresses shared case-insensitively, without failing', async () => {
    startedBefore = Date.now();
    const run = await runCli(['import:django', '--from', allauth.url]);
    finishedAfter = Date.now();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/users: +7 read, 7 new, 0 updated, 0 skipped/);
    expect(run.stdout).toContain('emails:           mail.email and account.email; allauth primary addresses, 2 confirmed');
    expect(run.stdout).toContain('1 address shared by several users (case-insensitive): ada@example.com (users 3001, 3009, 3011)');
    expect(run.stdout).toContain('mail.email is unique: the lowest id keeps each there; in account.email only: users 3009, 3011');
    expect(run.stdout).toContain(`auth_user id 3010: email "taken@example.com" is already mail.email of user ${holderId}; imported into account.email only`);
  }, 120_000);

  it('takes the primary address and confirms it when allauth marks it verified', async () => {
    const moved = await addresses(3002);
    expect(moved.email).toBe('new-moved@example.com');
    expect(moved.account.email).toBe('new-moved@example.com');
    expect(moved.confirmedAt).toBe(moved.mail.emailConfirmedAt);
    const confirmedAt = Date.parse(moved.confirmedAt);
    expect(confirmedAt).toBeGreaterThanOrEqual(startedBefore - 1000);
    expect(confirmedAt).toBeLessThanOrEqual(finishedAfter);
    expect(await addresses(3001)).toMatchObject({ email: 'Ada@Example.com', confirmedAt: moved.confirmedAt });
  });

  it('leaves an unverified address, or one allauth does not know, unconfirmed', async () => {
    expect(await addresses(3003)).toEqual({
      email: 'unverified@example.com',
      confirmedAt: null,
      mail: { email: 'unverified@example.com', emailConfirmedAt: null },
      account: { email: 'unverified@example.com' },
    });
    expect(await addresses(3004)).toMatchObject({ email: 'no-rows@example.com', confirmedAt: null });
  });

  it('keeps a shared or already held address in account.email only for all but its first holder', async () => {
    expect(await addresses(3009)).toEqual({
      email: null,
      confirmedAt: null,
      mail: { email: null, emailConfirmedAt: null },
      account: { email: 'ada@example.com' },
    });
    expect(await addresses(3011)).toMatchObject({ email: null, account: { email: 'ada@example.com' } });
    expect(await addresses(3010)).toEqual({
      email: null,
      confirmedAt: null,
      mail: { email: null, emailConfirmedAt: null },
      account: { email: 'taken@example.com' },
    });
    const holder = await addresses(Number(holderId));
    expect(holder.email).toBe('taken@example.com');
  });

  it('is re-runnable: the same report, and confirmations keep their time', async () => {
    const before = await addresses(3002);
    const report = await importDjango(server.db.orm.em.fork(), server.app.services.profileWriter, { from: allauth.url, batchSize: 2 });
    expect(report.users).toEqual({ total: 7, inserted: 0, updated: 7, skipped: 0 });
    expect(report.emails).toEqual({
      field: 'mail.email',
      allauth: true,
      confirmed: 2,
      shared: [{ address: 'ada@example.com', userIds: ['3001', '3009', '3011'], keptBy: '3001' }],
    });
    expect(report.problems.map((p) => p.id)).toEqual(['3010']);
    expect((await addresses(3002)).confirmedAt).toBe(before.confirmedAt);
  });

  it('lets two users of one batch swap addresses on a re-run', async () => {
    await onSource(`update auth_user set email = 'unverified@example.com' where id = 3004`, [], allauth);
    await onSource(`update auth_user set email = 'no-rows@example.com' where id = 3003`, [], allauth);
    await onSource(`update account_emailaddress set email = 'no-rows@example.com' where user_id = 3003`, [], allauth);
    const report = await importDjango(server.db.orm.em.fork(), server.app.services.profileWriter, { from: allauth.url, batchSize: 2 });
    expect(report.problems.map((p) => p.id)).toEqual(['3010']);
    expect(await addresses(3003)).toMatchObject({ email: 'no-rows@example.com', confirmedAt: null });
    expect(await addresses(3004)).toMatchObject({ email: 'unverified@example.com', confirmedAt: null });
  });

  it('mails a password reset to the primary address of an imported allauth user', async () => {
    await server.gql(REQUEST_RESET, { i: 'moved' });
    const sent = await mail.waitFor((m) => m.to === 'new-moved@example.com' && m.template === 'passwordReset');
    expect(sent.subject).toBeTruthy();
  });
});
