import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type QueryResult } from 'kysely';
import type { ProfileDefinition, ProfileField } from './model.ts';
import { ident, joinSql, rawSql, sql, valueList, type Sql } from './sql.ts';

/** A profile row as the API sees it: field names to values, plus the owner's id. */
export type ProfileRow = { userId: string } & Record<string, unknown>;

/**
 * SQL of the profile tables, written directly (one statement per call, values bound, every
 * identifier quoted): these are the hot read and write paths, and rows go to GraphQL as plain
 * objects without entity hydration.
 */

/**
 * A fragment as PostgreSQL's extended protocol takes it: `??` identifiers quoted into the text,
 * `?` values as numbered parameters (`$1`, `$2`, …) sent apart from the text, so the text of a
 * statement is the same whatever its values (no literal is ever formatted into SQL).
 */
export function positional(fragment: Sql): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  let next = 0;
  const text = fragment.sql.replace(/\?\??/g, (placeholder) => {
    const param = fragment.params[next++];
    if (placeholder === '??') return `"${String(param).replace(/"/g, '""')}"`;
    values.push(param);
    return `$${values.length}`;
  });
  if (next !== fragment.params.length) throw new Error(`SQL fragment has ${fragment.params.length} values for ${next} placeholders`);
  return { text, values };
}

/**
 * Runs a fragment with `em` (`all` rows, or `run` for a write: `{ affectedRows, rows }`) as a
 * parameterised statement ({@link positional}) through the EntityManager's Kysely client:
 * inside its transaction when it has one, else on the primary's pool, as `em.execute` would.
 * Logged to MikroORM's logger like its own queries (the text with `$n` placeholders, the values
 * apart); driver errors become MikroORM's exceptions (`UniqueConstraintViolationException`, …)
 * as from `em.execute`.
 */
export async function execute<T = Record<string, unknown>[]>(em: EntityManager, fragment: Sql, method: 'all' | 'run' = 'all'): Promise<T> {
  const { text, values } = positional(fragment);
  const client = em.getKysely();
  const logger = em.config.getLogger();
  const started = Date.now();
  let result: QueryResult<Record<string, unknown>>;
  try {
    result = await client.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, values));
  } catch (error) {
    logger.logQuery({ query: text, params: values, took: Date.now() - started, level: 'error' });
    throw em.getDriver().convertException(error as Error);
  }
  logger.logQuery({ query: text, params: values, took: Date.now() - started, results: result.rows.length, level: 'info' });
  if (method === 'all') return result.rows as T;
  return { affectedRows: Number(result.numAffectedRows ?? result.rows.length), rows: result.rows } as T;
}

/**
 * How a column is read: dates as `YYYY-MM-DD`, date-times as RFC 3339 UTC strings with
 * milliseconds (the driver hands timestamps over as PostgreSQL text otherwise).
 */
export function readExpression(field: ProfileField, alias: string): Sql {
  const column = ident(alias, field.column);
  if (field.kind === 'date') return sql`${column}::text`;
  if (field.kind === 'datetime') return sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  return column;
}

/**
 * `alias.column as "field"` for every field, plus `userId`; with `prefix`, output names are
 * `<prefix>field` (to read several profiles in one row, see {@link rowOf}).
 */
export function selectList(profile: ProfileDefinition, alias: string, prefix = ''): Sql {
  return joinSql([
    sql`${ident(alias, 'user_id')} as ${ident(`${prefix}userId`)}`,
    ...profile.fields.map((field) => sql`${readExpression(field, alias)} as ${ident(`${prefix}${field.name}`)}`),
  ]);
}

/** The profile row held under `prefix` in a joined row, or undefined when the join found none. */
export function rowOf(profile: ProfileDefinition, row: Record<string, unknown>, prefix: string): ProfileRow | undefined {
  const userId = row[`${prefix}userId`];
  if (typeof userId !== 'string' && typeof userId !== 'number') return undefined;
  const result: ProfileRow = { userId: String(userId) };
  for (const field of profile.fields) result[field.name] = row[`${prefix}${field.name}`];
  return result;
}

/** A JS value as a bound SQL value expression for `field` (`?`, with a cast where needed). */
export function valueSql(field: ProfileField, value: unknown): Sql {
  if (value === null || value === undefined) return rawSql('null');
  switch (field.kind) {
    case 'json':
      return sql`${JSON.stringify(value)}::jsonb`;
    case 'date':
      return sql`${value}::date`;
    case 'datetime':
      return sql`${value instanceof Date ? value.toISOString() : value}::timestamptz`;
    default:
      return sql`${value}`;
  }
}

function byUserId(rows: ProfileRow[]): Map<string, ProfileRow> {
  return new Map(rows.map((row) => [String(row.userId as string | number), { ...row, userId: String(row.userId as string | number) }]));
}

/** The rows of `userIds` (decimal strings) that exist, by user id. One statement. */
export async function selectRows(em: EntityManager, profile: ProfileDefinition, userIds: readonly string[]): Promise<Map<string, ProfileRow>> {
  const rows = await execute<ProfileRow[]>(
    em,
    sql`select ${selectList(profile, 'p')} from ${ident(profile.table)} as p where p.user_id in ${valueList(userIds)}`,
  );
  return byUserId(rows);
}

/**
 * Creates the missing rows of an auto-created profile with their defaults, in one
 * `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`, and returns them by user id. Only
 * ids of existing users get a row. A row created concurrently by another request is not
 * returned; the caller re-reads in that rare case.
 */
export async function insertMissingRows(em: EntityManager, profile: ProfileDefinition, userIds: readonly string[]): Promise<Map<string, ProfileRow>> {
  if (userIds.length === 0) return new Map();
  const rows = await execute<ProfileRow[]>(
    em,
    sql`insert into ${ident(profile.table)} (user_id) select u.id from users u where u.id in ${valueList(userIds)}
     on conflict (user_id) do nothing returning ${selectList(profile, profile.table)}`,
  );
  return byUserId(rows);
}

/**
 * Inserts or updates one user's row: the given fields are set, others keep their value (or
 * take their default on insert). One statement; concurrent writes to different fields of one
 * row do not overwrite each other. Constraint violations surface as MikroORM exceptions
 * (see {@link constraintField} to name the field).
 */
export async function upsertRow(em: EntityManager, profile: ProfileDefinition, userId: string, values: Record<string, unknown>): Promise<void> {
  const fields = profile.fields.filter((f) => f.name in values);
  const columns = joinSql([ident('user_id'), ...fields.map((f) => ident(f.column))]);
  const row = joinSql([sql`${userId}`, ...fields.map((f) => valueSql(f, values[f.name]))]);
  const conflict = fields.length
    ? sql`do update set ${joinSql(fields.map((f) => sql`${ident(f.column)} = excluded.${ident(f.column)}`))}`
    : rawSql('do nothing');
  await execute(em, sql`insert into ${ident(profile.table)} (${columns}) values (${row}) on conflict (user_id) ${conflict}`, 'run');
}

/**
 * Multi-row insert of `rows` in one statement (bulk paths: demo data, imports). Fields no row
 * gives are left out; a field one row omits takes its column default. On a row that exists:
 * `nothing` keeps it, `update` overwrites the given fields. Returns the rows written.
 */
export async function insertRows(
  em: EntityManager,
  profile: ProfileDefinition,
  rows: readonly { userId: string; values: Record<string, unknown> }[],
  onConflict: 'nothing' | 'update',
): Promise<number> {
  if (rows.length === 0) return 0;
  const fields = profile.fields.filter((f) => rows.some((r) => r.values[f.name] !== undefined));
  const columns = joinSql([ident('user_id'), ...fields.map((f) => ident(f.column))]);
  const tuples = rows.map(
    (row) =>
      sql`(${joinSql([sql`${row.userId}`, ...fields.map((f) => (row.values[f.name] === undefined ? rawSql('default') : valueSql(f, row.values[f.name])))])})`,
  );
  const conflict =
    onConflict === 'update' && fields.length
      ? sql`do update set ${joinSql(fields.map((f) => sql`${ident(f.column)} = excluded.${ident(f.column)}`))}`
      : rawSql('do nothing');
  const result = await execute<{ affectedRows: number }>(
    em,
    sql`insert into ${ident(profile.table)} (${columns}) values ${joinSql(tuples)} on conflict (user_id) ${conflict}`,
    'run',
  );
  return result.affectedRows;
}

/** Reads one field of one user's row without creating it; `undefined` when the row is missing. */
export async function selectValue(em: EntityManager, profile: ProfileDefinition, field: ProfileField, userId: string): Promise<unknown> {
  const rows = await execute<{ value: unknown }[]>(
    em,
    sql`select ${readExpression(field, 'p')} as value from ${ident(profile.table)} as p where p.user_id = ${userId}`,
  );
  return rows.length ? rows[0]!.value : undefined;
}

/**
 * The field a PostgreSQL constraint error on `profile`'s table is about, found by the
 * constraint's name (MikroORM names them `<table>_<column>_unique` / `_check`) or, for a
 * not-null violation, by the column PostgreSQL reports. Undefined when it is not about one.
 */
export function constraintField(profile: ProfileDefinition, error: unknown): ProfileField | undefined {
  const { constraint, column } = (error ?? {}) as { constraint?: unknown; column?: unknown };
  return profile.fields.find(
    (f) => f.column === column || constraint === `${profile.table}_${f.column}_unique` || constraint === `${profile.table}_${f.column}_check`,
  );
}
