import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { ProfileDefinition } from '../../profiles/model.ts';
import { checkValue } from '../../profiles/parse.ts';
import type { ProfileWriter } from '../profiles/profile.writer.ts';
import { identifierKey } from '../users/identifier.ts';
import {
  addBagEmails,
  addressSql,
  emailTargets,
  findSharedAddresses,
  hasAllauth,
  type EmailReport,
  type EmailTargets,
  type PendingRows,
  type SharedAddress,
} from './django-emails.ts';

/** A source row the importer left out, and why. */
export interface ImportProblem {
  table: string;
  id: string | number;
  reason: string;
}

/** What an import did (or, with `dryRun`, would do). */
export interface ImportReport {
  dryRun: boolean;
  users: { total: number; inserted: number; updated: number; skipped: number };
  permissions: number;
  groups: number;
  groupPermissions: number;
  userGroups: number;
  userPermissions: number;
  /** Where addresses went, allauth, and addresses several users share. */
  emails: EmailReport;
  problems: ImportProblem[];
}

export interface ImportOptions {
  /** `postgres://` URL of the Django database. */
  from: string;
  /** Run every statement, then roll each batch back. */
  dryRun?: boolean;
  /** Users per batch (one read and a handful of writes per batch). Default 2,000. */
  batchSize?: number;
  /** Called after each user batch with users done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Raised for a source that is not a Django auth database (or cannot be reached). */
export class ImportSourceError extends Error {
  override name = 'ImportSourceError';
}

class DryRunRollback extends Error {}

interface DjangoUser {
  id: string;
  username: string;
  password: string;
  first_name: string;
  last_name: string;
  email: string;
  is_active: boolean;
  is_staff: boolean;
  is_superuser: boolean;
  last_login: Date | null;
  date_joined: Date;
  /** From django-allauth: `email` is marked verified there (false without allauth). */
  verified: boolean;
}

/** What every batch of users is written with, settled once per import. */
interface UserImport {
  profiles: ProfileWriter;
  account: ProfileDefinition | undefined;
  targets: EmailTargets;
  /** {@link SharedAddress} by lower-cased address. */
  shared: Map<string, SharedAddress>;
  /** `emailConfirmedAt` of addresses allauth marks verified: when this import started. */
  importedAt: Date;
}

const REQUIRED_TABLES = [
  'auth_user',
  'auth_group',
  'auth_permission',
  'django_content_type',
  'auth_group_permissions',
  'auth_user_groups',
  'auth_user_user_permissions',
];

/** `account` profile fields the importer fills from `auth_user` columns. */
const ACCOUNT_COLUMNS: [field: string, source: keyof DjangoUser][] = [
  ['firstName', 'first_name'],
  ['lastName', 'last_name'],
  ['email', 'email'],
  ['isActive', 'is_active'],
  ['isStaff', 'is_staff'],
  ['isSuperuser', 'is_superuser'],
  ['lastLogin', 'last_login'],
  ['dateJoined', 'date_joined'],
];

const list = (n: number, width = 1) => Array.from({ length: n }, () => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');

/**
 * Imports a Django `django.contrib.auth` database: `auth_user` into `users` (keeping Django's
 * ids, identifiers from `username`, password hashes copied as stored — they verify at login
 * and are then upgraded to argon2id) and into the `account` profile when installed;
 * `auth_permission` (named `<app_label>.<codename>` through `django_content_type`),
 * `auth_group`, and the group and user memberships.
 *
 * Re-runnable: rows are matched by Django id (users), `(app_label, codename)` (permissions)
 * and name (groups), so a second run inserts nothing twice and updates what changed; a
 * password already replaced here by an argon2id hash (a login or a reset since the first
 * import) is kept. Memberships of imported users and groups are replaced by the source's.
 * Users are read with keyset pagination, `batchSize` at a time, each batch written in one
 * transaction of a few multi-row statements, so memory stays bounded and a million users do
 * not take a million round trips. A user whose identifier collides case-insensitively (after
 * NFKC) with another account is reported in `problems` and skipped; the rest go on.
 *
 * Addresses: a user's address is its django-allauth primary address when the source has
 * `account_emailaddress`, else `auth_user.email`. It goes to `account.email` and to the field
 * holding the data bag's `email` key (`mail.email`, resolved by the registry's precedence), so
 * password resets reach imported users; allauth's `verified` sets `emailConfirmedAt` to the
 * time the import started (a stored confirmation of the same address is kept). Addresses
 * shared case-insensitively by several users are listed in `emails.shared`; when the bag field
 * is `@unique`, the lowest Django id keeps such an address there and the others have it in
 * `account.email` only, as has a user whose address another account here already holds
 * (reported in `problems`). See {@link addBagEmails}.
 */
export async function importDjango(em: EntityManager, profiles: ProfileWriter, options: ImportOptions): Promise<ImportReport> {
  const source = new pg.Client({ connectionString: options.from });
  try {
    await source.connect();
  } catch (error) {
    throw new ImportSourceError(`Cannot connect to the Django database: ${(error as Error).message}`);
  }
  try {
    await checkSource(source);
    if (!options.dryRun) return await run(em, source, profiles, options);
    // A dry run does everything inside one transaction (batches become savepoints) and rolls
    // it back, so later batches see what earlier ones would have written.
    let report: ImportReport | undefined;
    try {
      await em.transactional(async (outer) => {
        report = await run(outer, source, profiles, options);
        throw new DryRunRollback();
      });
    } catch (error) {
      if (!(error instanceof DryRunRollback)) throw error;
    }
    return report!;
  } finally {
    await source.end();
  }
}

async function checkSource(source: pg.Client): Promise<void> {
  const { rows } = await source.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = current_schema() and table_name = any($1)`,
    [REQUIRED_TABLES],
  );
  const missing = REQUIRED_TABLES.filter((t) => !rows.some((r) => r.table_name === t));
  if (missing.length) throw new ImportSourceError(`Not a Django auth database: missing table(s) ${missing.join(', ')}.`);
}

async function run(em: EntityManager, source: pg.Client, profiles: ProfileWriter, options: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = {
    dryRun: Boolean(options.dryRun),
    users: { total: 0, inserted: 0, updated: 0, skipped: 0 },
    permissions: 0,
    groups: 0,
    groupPermissions: 0,
    userGroups: 0,
    userPermissions: 0,
    emails: { field: null, allauth: false, confirmed: 0, shared: [] },
    problems: [],
  };
  const batchSize = options.batchSize ?? 2000;
  const account = profiles.registry.get('account');
  const targets = emailTargets(profiles.registry, account);
  const allauth = await hasAllauth(source);
  const shared = await findSharedAddresses(source, allauth, targets);
  report.emails = { field: targets.email && targets.email.profile !== account ? targets.email.qualifiedKey : null, allauth, confirmed: 0, shared };
  const context: UserImport = { profiles, account, targets, shared: new Map(shared.map((s) => [s.address, s])), importedAt: new Date() };
  const { columns, join } = addressSql(allauth);
  const { permissionIds, groupIds } = await em.transactional(async (tx) => {
    const permissionIds = await importPermissions(source, tx, report);
    const groupIds = await importGroups(source, tx, report, permissionIds);
    return { permissionIds, groupIds };
  });
  report.users.total = Number((await source.query<{ n: string }>('select count(*) as n from auth_user')).rows[0]!.n);
  let lastId = '0';
  let done = 0;
  for (;;) {
    const { rows } = await source.query<DjangoUser>(
      `select u.id::text as id, username, password, first_name, last_name, ${columns}, is_active, is_staff, is_superuser, last_login, date_joined
         from auth_user u ${join} where u.id > $1 order by u.id limit $2`,
      [lastId, batchSize],
    );
    if (rows.length === 0) break;
    lastId = rows.at(-1)!.id;
    await em.transactional(async (tx) => {
      const imported = await importUsers(tx, rows, context, report);
      await importMemberships(source, tx, imported, permissionIds, groupIds, report);
    });
    done += rows.length;
    options.onProgress?.(done, report.users.total);
  }
  await em.execute(`select setval(pg_get_serial_sequence('users', 'id'), greatest((select max(id) from users), 1))`);
  return report;
}

async function importPermissions(source: pg.Client, tx: EntityManager, report: ImportReport): Promise<Map<string, string>> {
  const { rows } = await source.query<{ id: string; codename: string; name: string; app_label: string }>(
    `select p.id::text as id, p.codename, p.name, ct.app_label from auth_permission p join django_content_type ct on ct.id = p.content_type_id order by p.id`,
  );
  const ids = new Map<string, string>();
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const saved = await tx.execute<{ id: string; app_label: string; codename: string }[]>(
      `insert into permissions (app_label, codename, name) values ${list(chunk.length, 3)}
       on conflict (app_label, codename) do update set name = excluded.name returning id, app_label, codename`,
      chunk.flatMap((r) => [r.app_label, r.codename, r.name.slice(0, 255)]),
    );
    const byKey = new Map(saved.map((s) => [`${s.app_label}.${s.codename}`, String(s.id)]));
    for (const r of chunk) ids.set(r.id, byKey.get(`${r.app_label}.${r.codename}`)!);
  }
  report.permissions = rows.length;
  return ids;
}

async function importGroups(source: pg.Client, tx: EntityManager, report: ImportReport, permissionIds: Map<string, string>): Promise<Map<string, string>> {
  const groups = (await source.query<{ id: string; name: string }>('select id::text as id, name from auth_group order by id')).rows;
  const ids = new Map<string, string>();
  for (const g of groups) {
    const [row] = await tx.execute<{ id: string }[]>(
      'insert into groups (name) values (?) on conflict (name) do update set name = excluded.name returning id',
      [g.name],
    );
    ids.set(g.id, String(row!.id));
  }
  report.groups = groups.length;
  const links = (
    await source.query<{ group_id: string; permission_id: string }>(
      'select group_id::text as group_id, permission_id::text as permission_id from auth_group_permissions',
    )
  ).rows;
  if (ids.size) await tx.execute(`delete from group_permissions where group_id in (${[...ids.values()].map(() => '?').join(', ')})`, [...ids.values()], 'run');
  const pairs = links.map((l) => [ids.get(l.group_id), permissionIds.get(l.permission_id)]).filter((p): p is [string, string] => Boolean(p[0] && p[1]));
  for (let i = 0; i < pairs.length; i += 1000) {
    const chunk = pairs.slice(i, i + 1000);
    await tx.execute(`insert into group_permissions (group_id, permission_id) values ${list(chunk.length, 2)} on conflict do nothing`, chunk.flat(), 'run');
  }
  report.groupPermissions = pairs.length;
  return ids;
}

/** Writes one batch of users (and their profile rows); returns the ids imported. */
async function importUsers(tx: EntityManager, rows: DjangoUser[], context: UserImport, report: ImportReport): Promise<string[]> {
  const keys = rows.map((r) => identifierKey(r.username));
  const existing = await tx.execute<{ id: string; identifier_key: string }[]>(
    `select id, identifier_key from users where identifier_key in (${keys.map(() => '?').join(', ')})`,
    keys,
  );
  const owner = new Map(existing.map((e) => [e.identifier_key, String(e.id)]));
  const accepted: DjangoUser[] = [];
  for (const [i, row] of rows.entries()) {
    const key = keys[i]!;
    const holder = owner.get(key);
    if (holder && holder !== row.id) {
      report.problems.push({ table: 'auth_user', id: row.id, reason: `username "${row.username}" collides case-insensitively with user ${holder}` });
      report.users.skipped += 1;
      continue;
    }
    if (!row.username.trim()) {
      report.problems.push({ table: 'auth_user', id: row.id, reason: 'empty username' });
      report.users.skipped += 1;
      continue;
    }
    owner.set(key, row.id);
    accepted.push(row);
  }
  if (!accepted.length) return [];
  const saved = await tx.execute<{ inserted: boolean }[]>(
    `insert into users (id, identifier, identifier_key, password, created_at) values ${list(accepted.length, 5)}
     on conflict (id) do update set identifier = excluded.identifier, identifier_key = excluded.identifier_key,
       password = case when users.password like '$argon2id$%' then users.password else excluded.password end
     returning (xmax = 0) as inserted`,
    accepted.flatMap((r) => [r.id, r.username, identifierKey(r.username), r.password, r.date_joined]),
  );
  const inserted = saved.filter((s) => s.inserted).length;
  report.users.inserted += inserted;
  report.users.updated += saved.length - inserted;
  await importProfiles(tx, accepted.map(checkedEmail(context, report)), context, report);
  return accepted.map((r) => r.id);
}

/** The row with a refused address emptied (imported as null everywhere, reported once). */
function checkedEmail({ targets }: UserImport, report: ImportReport): (row: DjangoUser) => DjangoUser {
  return (row) => {
    if (!row.email || !targets.check || !checkValue(targets.check, row.email)) return row;
    report.problems.push({
      table: 'auth_user',
      id: row.id,
      reason: `email ${JSON.stringify(row.email)} is not a valid ${targets.check.graphqlType}; imported as null`,
    });
    return { ...row, email: '' };
  };
}

/** The batch's `account` rows and the bag's address fields, one statement per profile. */
async function importProfiles(tx: EntityManager, rows: DjangoUser[], context: UserImport, report: ImportReport): Promise<void> {
  const { profiles, account, targets } = context;
  const write = async (profile: ProfileDefinition, list: { userId: string; values: Record<string, unknown> }[]) => {
    await profiles.writeMany(tx, profile, list, 'update');
  };
  const pending: PendingRows = new Map();
  if (account) pending.set(account, accountValues(rows, account, report));
  const users = rows.map((r) => ({ id: r.id, email: r.email || null, verified: r.verified }));
  await addBagEmails(tx, targets, users, context.shared, context.importedAt, pending, report, write);
  for (const [profile, byUser] of pending)
    await write(
      profile,
      [...byUser].map(([userId, values]) => ({ userId, values })),
    );
}

function accountValues(rows: DjangoUser[], account: ProfileDefinition, report: ImportReport): Map<string, Record<string, unknown>> {
  const mapped = ACCOUNT_COLUMNS.map(([name, source]) => ({ field: account.fields.find((f) => f.name === name), source })).filter(
    (m): m is { field: NonNullable<typeof m.field>; source: keyof DjangoUser } => Boolean(m.field),
  );
  return new Map<string, Record<string, unknown>>(
    rows.map((row) => [
      String(row.id),
      Object.fromEntries(
        mapped.map(({ field, source }) => {
          let value: unknown = row[source];
          if (value === '') value = null;
          if (value instanceof Date) value = value.toISOString();
          if (checkValue(field, value)) {
            report.problems.push({
              table: 'auth_user',
              id: row.id,
              reason: `${source} ${JSON.stringify(value)} is not a valid ${field.graphqlType}; imported as null`,
            });
            value = null;
          }
          return [field.name, value];
        }),
      ),
    ]),
  );
}

async function importMemberships(
  source: pg.Client,
  tx: EntityManager,
  userIds: string[],
  permissionIds: Map<string, string>,
  groupIds: Map<string, string>,
  report: ImportReport,
): Promise<void> {
  if (!userIds.length) return;
  const memberships = (
    await source.query<{ user_id: string; group_id: string }>(
      'select user_id::text as user_id, group_id::text as group_id from auth_user_groups where user_id = any($1)',
      [userIds],
    )
  ).rows;
  const grants = (
    await source.query<{ user_id: string; permission_id: string }>(
      'select user_id::text as user_id, permission_id::text as permission_id from auth_user_user_permissions where user_id = any($1)',
      [userIds],
    )
  ).rows;
  const inList = userIds.map(() => '?').join(', ');
  await tx.execute(`delete from user_groups where user_id in (${inList})`, userIds, 'run');
  await tx.execute(`delete from user_permissions where user_id in (${inList})`, userIds, 'run');
  const groupPairs = memberships.map((m) => [m.user_id, groupIds.get(m.group_id)]).filter((p): p is [string, string] => Boolean(p[1]));
  const permPairs = grants.map((g) => [g.user_id, permissionIds.get(g.permission_id)]).filter((p): p is [string, string] => Boolean(p[1]));
  if (groupPairs.length)
    await tx.execute(`insert into user_groups (user_id, group_id) values ${list(groupPairs.length, 2)} on conflict do nothing`, groupPairs.flat(), 'run');
  if (permPairs.length)
    await tx.execute(
      `insert into user_permissions (user_id, permission_id) values ${list(permPairs.length, 2)} on conflict do nothing`,
      permPairs.flat(),
      'run',
    );
  report.userGroups += groupPairs.length;
  report.userPermissions += permPairs.length;
}
