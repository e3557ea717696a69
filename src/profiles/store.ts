import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProfileDefinition, ProfileField } from './model.ts';

/** A profile row as the API sees it: field names to values, plus the owner's id. */
export type ProfileRow = { userId: string } & Record<string, unknown>;

/**
 * SQL of the profile tables, written directly (one statement per call, values bound as
 * parameters, identifiers quoted with `??`): these are the hot read and write paths, and
 * rows go to GraphQL as plain objects without entity hydration.
 */

/**
 * How a column is read: dates as `YYYY-MM-DD`, date-times as RFC 3339 UTC strings with
 * milliseconds (the driver hands timestamps over as PostgreSQL text otherwise).
 */
function readExpression(field: ProfileField): string {
  if (field.kind === 'date') return '??.??::text';
  if (field.kind === 'datetime') return `to_char(??.?? at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  return '??.??';
}

/**
 * `alias.column as "field"` for every field, plus `userId`; with `prefix`, output names are
 * `<prefix>field` (to read several profiles in one row, see {@link rowOf}).
 */
export function selectList(profile: ProfileDefinition, alias: string, prefix = ''): { sql: string; params: string[] } {
  const parts = ['??.user_id as ??'];
  const params = [alias, `${prefix}userId`];
  for (const field of profile.fields) {
    parts.push(`${readExpression(field)} as ??`);
    params.push(alias, field.column, `${prefix}${field.name}`);
  }
  return { sql: parts.join(', '), params };
}

/** The profile row held under `prefix` in a joined row, or undefined when the join found none. */
export function rowOf(profile: ProfileDefinition, row: Record<string, unknown>, prefix: string): ProfileRow | undefined {
  const userId = row[`${prefix}userId`];
  if (userId === null || userId === undefined) return undefined;
  const result: ProfileRow = { userId: String(userId) };
  for (const field of profile.fields) result[field.name] = row[`${prefix}${field.name}`];
  return result;
}

/** A JS value as a bound SQL value expression for `field` (`?`, with a cast where needed). */
export function valueSql(field: ProfileField, value: unknown): { sql: string; params: unknown[] } {
  if (value === null || value === undefined) return { sql: 'null', params: [] };
  switch (field.kind) {
    case 'json':
      return { sql: '?::jsonb', params: [JSON.stringify(value)] };
    case 'date':
      return { sql: '?::date', params: [value] };
    case 'datetime':
      return { sql: '?::timestamptz', params: [value instanceof Date ? value.toISOString() : value] };
    default:
      return { sql: '?', params: [value] };
  }
}

/** The rows of `userIds` (decimal strings) that exist, by user id. One statement. */
export async function selectRows(em: EntityManager, profile: ProfileDefinition, userIds: readonly string[]): Promise<Map<string, ProfileRow>> {
  const list = selectList(profile, 'p');
  const rows = await em.execute<ProfileRow[]>(
    `select ${list.sql} from ?? as p where p.user_id in (${userIds.map(() => '?').join(', ')})`,
    [...list.params, profile.table, ...userIds],
  );
  return new Map(rows.map((row) => [String(row.userId), { ...row, userId: String(row.userId) }]));
}

/**
 * Creates the missing rows of an auto-created profile with their defaults, in one
 * `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`, and returns them by user id. Only
 * ids of existing users get a row. A row created concurrently by another request is not
 * returned; the caller re-reads in that rare case.
 */
export async function insertMissingRows(em: EntityManager, profile: ProfileDefinition, userIds: readonly string[]): Promise<Map<string, ProfileRow>> {
  if (userIds.length === 0) return new Map();
  const list = selectList(profile, profile.table);
  const rows = await em.execute<ProfileRow[]>(
    `insert into ?? (user_id) select u.id from users u where u.id in (${userIds.map(() => '?').join(', ')})
     on conflict (user_id) do nothing returning ${list.sql}`,
    [profile.table, ...userIds, ...list.params],
  );
  return new Map(rows.map((row) => [String(row.userId), { ...row, userId: String(row.userId) }]));
}

/**
 * Inserts or updates one user's row: the given fields are set, others keep their value (or
 * take their default on insert). One statement; concurrent writes to different fields of one
 * row do not overwrite each other. Constraint violations surface as MikroORM exceptions.
 */
export async function upsertRow(
  em: EntityManager,
  profile: ProfileDefinition,
  userId: string,
  values: Record<string, unknown>,
): Promise<void> {
  const fields = profile.fields.filter((f) => f.name in values);
  const columns = ['user_id', ...fields.map((f) => f.column)];
  const valueParts = ['?'];
  const params: unknown[] = [profile.table, ...columns, userId];
  for (const field of fields) {
    const v = valueSql(field, values[field.name]);
    valueParts.push(v.sql);
    params.push(...v.params);
  }
  let conflict = 'do nothing';
  if (fields.length) {
    conflict = `do update set ${fields.map(() => '?? = excluded.??').join(', ')}`;
    for (const field of fields) params.push(field.column, field.column);
  }
  await em.execute(
    `insert into ?? (${columns.map(() => '??').join(', ')}) values (${valueParts.join(', ')}) on conflict (user_id) ${conflict}`,
    params,
    'run',
  );
}

/** Reads one field of one user's row without creating it; `undefined` when the row is missing. */
export async function selectValue(em: EntityManager, profile: ProfileDefinition, field: ProfileField, userId: string): Promise<unknown> {
  const rows = await em.execute<{ value: unknown }[]>(`select ${readExpression(field)} as value from ?? as p where p.user_id = ?`, [
    'p',
    field.column,
    profile.table,
    userId,
  ]);
  return rows.length ? rows[0]!.value : undefined;
}
