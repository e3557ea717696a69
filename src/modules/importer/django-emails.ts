import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { ProfileDefinition, ProfileField } from '../../profiles/model.ts';
import { checkValue } from '../../profiles/parse.ts';
import type { ProfileRegistry, ResolvedKey } from '../../profiles/registry.ts';
import { ident, sql, valueList } from '../../profiles/sql.ts';
import { execute, selectRows } from '../../profiles/store.ts';
import { CoreKeys } from '../profiles/core-keys.ts';

/** An address (lower-cased) that several Django users have, compared case-insensitively. */
export interface SharedAddress {
  address: string;
  /** Django ids, ascending. */
  userIds: string[];
  /**
   * Who holds it in the bag's `email` field when that field is `@unique`: the lowest id (the
   * others have it in `account.email` only). Absent when the field is not unique.
   */
  keptBy?: string;
}

/** What the import did with addresses (part of the importer's report). */
export interface EmailReport {
  /** The field holding the data bag's `email` key that addresses also went to (`mail.email`), or null. */
  field: string | null;
  /** Whether django-allauth's `account_emailaddress` was read. */
  allauth: boolean;
  /** Users whose imported address stands confirmed (`emailConfirmedAt` set) after the import. */
  confirmed: number;
  /** Addresses shared by several users, by their lowest id. */
  shared: SharedAddress[];
}

/** The bag fields addresses are written to, resolved once per import. */
export interface EmailTargets {
  /** Holder of `email` (`mail.email`; `account.email` itself when no other profile defines it). */
  email: ResolvedKey | undefined;
  confirmedAt: ResolvedKey | undefined;
  /** The field addresses are checked against (`account.email`, else the bag field). */
  check: ProfileField | undefined;
}

/** A user of one batch, with the address the import gives it. */
export interface UserAddress {
  id: string;
  /** Checked address, or null (none, or refused). */
  email: string | null;
  /** allauth marks this address verified (false without allauth). */
  verified: boolean;
}

/** Profile rows to write, by profile then user id. */
export type PendingRows = Map<ProfileDefinition, Map<string, Record<string, unknown>>>;

export const ALLAUTH_TABLE = 'account_emailaddress';

/**
 * Finds the fields holding the bag keys `email` and `emailConfirmedAt` by the same rule the
 * core reads them with ({@link CoreKeys}: the registry's precedence, the key's type).
 */
export function emailTargets(registry: ProfileRegistry, account: ProfileDefinition | undefined): EmailTargets {
  const keys = new CoreKeys(registry);
  const accountEmail = account?.fields.find((f) => f.name === 'email');
  const email = keys.holder('email');
  return {
    email,
    confirmedAt: keys.holder('emailConfirmedAt'),
    check: accountEmail ?? email?.field,
  };
}

/**
 * The user columns of the batch query: `email` is the user's allauth primary address (the
 * first by id, when several are marked primary), else `auth_user.email`; `verified` is true
 * when allauth has that same address (case-insensitively) of that user marked verified.
 */
export function addressSql(allauth: boolean): { columns: string; join: string } {
  if (!allauth) return { columns: 'u.email as email, false as verified', join: '' };
  return {
    columns: `coalesce(pe.email, u.email) as email,
      exists (select 1 from ${ALLAUTH_TABLE} v where v.user_id = u.id and v.verified and lower(v.email) = lower(coalesce(pe.email, u.email))) as verified`,
    join: `left join lateral (select e.email from ${ALLAUTH_TABLE} e where e.user_id = u.id and e."primary" and e.email <> '' order by e.id limit 1) pe on true`,
  };
}

/** Whether the source has django-allauth's address table. One statement. */
export async function hasAllauth(source: pg.Client): Promise<boolean> {
  const { rows } = await source.query(`select 1 from information_schema.tables where table_schema = current_schema() and table_name = $1`, [ALLAUTH_TABLE]);
  return rows.length > 0;
}

/**
 * Addresses (as {@link addressSql} picks them) that several users share, compared
 * lower-cased; refused addresses are left out (they are imported as null). One statement
 * over the whole source, so the rule does not depend on batch boundaries.
 */
export async function findSharedAddresses(source: pg.Client, allauth: boolean, targets: EmailTargets): Promise<SharedAddress[]> {
  const { columns, join } = addressSql(allauth);
  const { rows } = await source.query<{ address: string; ids: string[] }>(
    `select lower(a.email) as address, array_agg(a.id::text order by a.id) as ids
       from (select u.id, ${columns} from auth_user u ${join}) a
      where a.email <> '' group by lower(a.email) having count(*) > 1 order by min(a.id)`,
  );
  const unique = Boolean(targets.email?.field.unique);
  return rows
    .filter((r) => !targets.check || !checkValue(targets.check, r.address))
    .map((r) => ({ address: r.address, userIds: r.ids, ...(unique ? { keptBy: r.ids[0]! } : {}) }));
}

/**
 * Adds the bag's `email` (and `emailConfirmedAt`) values of one batch to `pending`, and
 * clears first, in the unique field, addresses that batch users or non-keepers hold but lose
 * (so a swap of addresses cannot trip the unique constraint mid-statement).
 *
 * Rules: when the `email` field is `@unique`, an address shared case-insensitively goes there
 * only for its keeper ({@link SharedAddress.keptBy}), and an address held there by a user
 * outside the import is not taken (reported in `problems`); those users get null there and
 * keep the address in `account.email`. `emailConfirmedAt` keeps a stored confirmation of the
 * same address, is `importedAt` for an allauth-verified one, and is null otherwise.
 */
export async function addBagEmails(
  tx: EntityManager,
  targets: EmailTargets,
  users: readonly UserAddress[],
  shared: ReadonlyMap<string, SharedAddress>,
  importedAt: Date,
  pending: PendingRows,
  report: { problems: { table: string; id: string | number; reason: string }[]; emails: EmailReport },
  write: (profile: ProfileDefinition, rows: { userId: string; values: Record<string, unknown> }[]) => Promise<void>,
): Promise<void> {
  const { email: holder, confirmedAt } = targets;
  const ids = users.map((u) => u.id);
  const address = new Map(users.map((u) => [u.id, u.email]));
  // What is stored before this batch's writes: a confirmation is kept only for the same address.
  const stored = async (key: ResolvedKey | undefined) => (key ? await selectRows(tx, key.profile, ids) : new Map<string, Record<string, unknown>>());
  const emailRows = holder ? await stored(holder) : undefined;
  const confirmedRows = confirmedAt ? (confirmedAt.profile === holder?.profile ? emailRows! : await stored(confirmedAt)) : undefined;
  if (holder?.field.unique) {
    // `seen` also holds back a duplicate the whole-source scan did not see (a source changing under the import).
    const seen = new Set<string>();
    for (const user of users) {
      const lower = user.email?.toLowerCase();
      if (lower === undefined) continue;
      const group = shared.get(lower);
      if ((group && group.keptBy !== user.id) || seen.has(lower)) address.set(user.id, null);
      seen.add(lower);
    }
    await releaseAddresses(tx, holder, users, address, shared, report, write);
  }
  for (const user of users) {
    const value = address.get(user.id) ?? null;
    if (holder) pendingRow(pending, holder.profile, user.id)[holder.field.name] = value;
    if (!confirmedAt) continue;
    const before = holder && emailRows?.get(user.id)?.[holder.field.name];
    const stamp = confirmedRows?.get(user.id)?.[confirmedAt.field.name];
    const confirmed = value === null ? null : before === value && stamp ? stamp : user.verified ? importedAt : null;
    if (confirmed) report.emails.confirmed += 1;
    pendingRow(pending, confirmedAt.profile, user.id)[confirmedAt.field.name] = confirmed;
  }
}

/**
 * Before the batch's write to the unique field: an address held by a batch user who gets
 * another one, or by a non-keeper of that shared address, is cleared; one held by anyone else
 * stays, and the batch user gets null instead (reported). One read by the unique index, and
 * one write only when something is cleared.
 */
async function releaseAddresses(
  tx: EntityManager,
  holder: ResolvedKey,
  users: readonly UserAddress[],
  address: Map<string, string | null>,
  shared: ReadonlyMap<string, SharedAddress>,
  report: { problems: { table: string; id: string | number; reason: string }[] },
  write: (profile: ProfileDefinition, rows: { userId: string; values: Record<string, unknown> }[]) => Promise<void>,
): Promise<void> {
  const wanted = new Map([...address].filter((e): e is [string, string] => e[1] !== null).map(([id, a]) => [a, id]));
  if (!wanted.size) return;
  const column = ident('p', holder.field.column);
  const held = await execute<{ user_id: string | number; value: string }[]>(
    tx,
    sql`select p.user_id, ${column} as value from ${ident(holder.profile.table)} as p where ${column} in ${valueList([...wanted.keys()])}`,
  );
  const batch = new Set(users.map((u) => u.id));
  const release: string[] = [];
  for (const { user_id, value } of held) {
    const owner = String(user_id);
    const writer = wanted.get(value)!;
    if (owner === writer) continue;
    const group = shared.get(value.toLowerCase());
    if (batch.has(owner) || (group?.userIds.includes(owner) && group.keptBy !== owner)) release.push(owner);
    else {
      address.set(writer, null);
      report.problems.push({
        table: 'auth_user',
        id: writer,
        reason: `email "${value}" is already ${holder.qualifiedKey} of user ${owner}; imported into account.email only`,
      });
    }
  }
  if (release.length)
    await write(
      holder.profile,
      release.map((userId) => ({ userId, values: { [holder.field.name]: null } })),
    );
}

function pendingRow(pending: PendingRows, profile: ProfileDefinition, userId: string): Record<string, unknown> {
  let rows = pending.get(profile);
  if (!rows) pending.set(profile, (rows = new Map<string, Record<string, unknown>>()));
  let row = rows.get(userId);
  if (!row) rows.set(userId, (row = {}));
  return row;
}
