import type { UserOrder, UserWhere } from '../../__generated__/resolvers-types.ts';
import { badInput } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import type { ProfileDefinition, ProfileField } from '../../profiles/model.ts';
import { checkValue } from '../../profiles/parse.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { ident, joinSql, rawSql, sql, type Sql } from '../../profiles/sql.ts';
import { valueSql } from '../../profiles/store.ts';
import type { ListUses } from '../permissions/access.ts';
import { identifierKey } from './identifier.ts';

/** The operators any filter input (`StringFilter`, `IntFilter`, …, `DataFilter`) may carry. */
type Filter = Partial<Record<'eq' | 'ne' | 'in' | 'contains' | 'startsWith' | 'gt' | 'gte' | 'lt' | 'lte' | 'isNull', unknown>>;

/**
 * The most values an `in:` list of a filter may hold; a longer list is `BAD_USER_INPUT` naming
 * the list (`where.mail.email.in`). Longer lists are better served by a different query.
 */
export const MAX_IN_VALUES = 100;
/** The most values all `in:` lists of one `where` may hold together. */
export const MAX_IN_VALUES_TOTAL = 300;
/** The most conditions (field filters, `data` filters, relationships) one `where` may hold. */
export const MAX_WHERE_CONDITIONS = 50;
/** The deepest nesting of `AND`/`OR` in one `where` (`where.AND[0].OR[1]` is 2). */
export const MAX_WHERE_NESTING = 5;

/**
 * Bounds the size of a `where` before anything is compiled (the document's token limit does
 * not bound variables): at most {@link MAX_WHERE_NESTING} levels of `AND`/`OR`,
 * {@link MAX_WHERE_CONDITIONS} conditions and {@link MAX_IN_VALUES_TOTAL} `in:` values in
 * all. Errors: `BAD_USER_INPUT` naming `where` (or the too-deep `AND`/`OR` path).
 */
export function checkWhereSize(where: UserWhere | null | undefined): void {
  if (!where) return;
  let conditions = 0;
  let inValues = 0;
  const countFilter = (filter: unknown) => {
    if (!filter || typeof filter !== 'object') return;
    conditions += 1;
    const list = (filter as { in?: unknown }).in;
    if (Array.isArray(list)) inValues += list.length;
  };
  const walk = (w: UserWhere, depth: number, path: string): void => {
    for (const [key, value] of Object.entries(w) as [string, unknown][]) {
      if (value === null || value === undefined) continue;
      if (key === 'AND' || key === 'OR') {
        if (depth + 1 > MAX_WHERE_NESTING) throw badInput({ [`${path}.${key}`]: `AND/OR may nest at most ${MAX_WHERE_NESTING} levels deep.` });
        (value as UserWhere[]).forEach((sub, i) => walk(sub, depth + 1, `${path}.${key}[${i}]`));
      } else if (key === 'data') {
        for (const f of value as NonNullable<UserWhere['data']>) countFilter(f);
      } else if (key === 'follows' || key === 'followedBy') {
        conditions += 1;
      } else if (key === 'identifier' || key === 'createdAt') {
        countFilter(value);
      } else if (key !== 'followStatus' && typeof value === 'object') {
        for (const filter of Object.values(value as Record<string, unknown>)) countFilter(filter);
      }
    }
  };
  walk(where, 0, 'where');
  if (conditions > MAX_WHERE_CONDITIONS) throw badInput({ where: `At most ${MAX_WHERE_CONDITIONS} conditions, got ${conditions}.` });
  if (inValues > MAX_IN_VALUES_TOTAL) throw badInput({ where: `At most ${MAX_IN_VALUES_TOTAL} in: values in all, got ${inValues}.` });
}

/**
 * SQL pieces of a user list over `users u`: `from … join …`, `where …` and `order by …`, and
 * what they use that access governs (to be checked by `requireListAccess` before running them).
 */
export interface UserQuery {
  from: Sql;
  where: Sql;
  orderBy: Sql;
  /** The sort keys of `orderBy`, in order, ending with `u.id` (for keyset pagination, {@link seekAfter}). */
  keys: SortKey[];
  uses: ListUses;
}

/** One sort key: its expression, direction and PostgreSQL type (to compare a cursor's text value). */
export interface SortKey {
  sql: Sql;
  desc: boolean;
  type: string;
}

/** PostgreSQL type of each sortable field kind (JSON fields cannot be sorted). */
const SORT_TYPES: Record<string, string> = {
  string: 'text',
  email: 'text',
  url: 'text',
  enum: 'text',
  int: 'integer',
  float: 'double precision',
  boolean: 'boolean',
  datetime: 'timestamptz',
  date: 'date',
};

/**
 * The condition "sorts after the row whose keys are `values`" (keyset pagination), for keys
 * sorted by PostgreSQL's defaults: ascending with nulls last, descending with nulls first.
 * `values` are the keys as PostgreSQL text (null for null), compared after a cast to each
 * key's type; the last key (`u.id`) is never null, so the order is total.
 */
export function seekAfter(keys: readonly SortKey[], values: readonly (string | null)[]): Sql {
  const equal = (key: SortKey, value: string | null): Sql =>
    value === null ? sql`${key.sql} is null` : sql`${key.sql} = cast(${value} as ${rawSql(key.type)})`;
  const after = (key: SortKey, value: string | null): Sql => {
    if (value === null) return key.desc ? sql`${key.sql} is not null` : rawSql('false');
    const cast = sql`cast(${value} as ${rawSql(key.type)})`;
    return key.desc ? sql`${key.sql} < ${cast}` : sql`(${key.sql} > ${cast} or ${key.sql} is null)`;
  };
  const alternatives = keys.map((key, i) => joinSql([...keys.slice(0, i).map((k, j) => equal(k, values[j]!)), after(key, values[i]!)], ' and '));
  return sql`(${joinSql(
    alternatives.map((a) => sql`(${a})`),
    ' or ',
  )})`;
}

/** A column expression and the field it holds (for value conversion). */
interface Operand {
  sql: Sql;
  field: ProfileField | undefined;
  /** Compare through `identifierKey` (case- and normalisation-insensitive identifier match). */
  identifier?: boolean;
}

const TRUE = rawSql('true');

/**
 * Compiles `where` and `orderBy` of `users` into SQL over `users u`, joining
 * `profile_<name> p_<name>` (left join) only for profiles the conditions or sort keys use.
 * A missing row of an auto-created profile reads as the field's default (`coalesce`), as it
 * will once created. Bag keys resolve strictly: an unqualified key several profiles define is
 * `PROFILE_KEY_AMBIGUOUS`. Invalid values, `in:` lists longer than {@link MAX_IN_VALUES},
 * and a `where` past {@link checkWhereSize}'s bounds are `BAD_USER_INPUT` with the path of the input. Every profile field a condition or sort key
 * names and every relationship condition is recorded in `uses` with its input path; the
 * compiler itself decides no access.
 */
export function compileUserQuery(registry: ProfileRegistry, where: UserWhere | null | undefined, orderBy: readonly UserOrder[] | null | undefined): UserQuery {
  checkWhereSize(where);
  const joins = new Set<ProfileDefinition>();
  const uses: ListUses = { fields: [], relationships: [] };
  const column = (profile: ProfileDefinition, field: ProfileField, path: string): Operand => {
    joins.add(profile);
    uses.fields.push({ path, field });
    const ref = ident(`p_${profile.name}`, field.column);
    if (profile.autoCreate && field.defaultValue !== undefined && field.defaultValue !== null) {
      return { sql: sql`coalesce(${ref}, ${valueSql(field, field.defaultValue)})`, field };
    }
    return { sql: ref, field };
  };

  const compileWhere = (w: UserWhere, path: string): Sql => {
    const parts: Sql[] = [];
    for (const [key, value] of Object.entries(w) as [string, unknown][]) {
      if (value === null || value === undefined) continue;
      const at = `${path}.${key}`;
      if (key === 'identifier') {
        parts.push(condition({ sql: rawSql('u.identifier'), field: undefined, identifier: true }, value, at));
      } else if (key === 'createdAt') {
        parts.push(condition({ sql: rawSql('u.created_at'), field: datetimeField }, value, at));
      } else if (key === 'data') {
        for (const [i, f] of (value as NonNullable<UserWhere['data']>).entries()) {
          const resolved = registry.resolveStrict(f.key);
          const { key: _key, ...ops } = f;
          parts.push(condition(column(resolved.profile, resolved.field, `${at}[${i}]`), ops, `${at}[${i}]`));
        }
      } else if (key === 'follows' || key === 'followedBy') {
        const status = w.followStatus ?? 'CONFIRMED';
        const userId = parseId(value as string, at);
        uses.relationships.push({ path: w.followStatus ? `${path}.followStatus` : at, userId: String(BigInt(userId)), status });
        parts.push(relationship(key, userId, status));
      } else if (key === 'followStatus') {
        if (w.follows == null && w.followedBy == null) throw badInput({ [at]: 'Give follows or followedBy with followStatus.' });
      } else if (key === 'AND' || key === 'OR') {
        const subs = (value as UserWhere[]).map((sub, i) => compileWhere(sub, `${at}[${i}]`));
        if (subs.length === 0) continue;
        parts.push(sql`(${joinSql(subs, key === 'AND' ? ' and ' : ' or ')})`);
      } else {
        const profile = registry.get(key)!;
        for (const [fieldName, filter] of Object.entries(value as Record<string, Filter | null>)) {
          if (!filter) continue;
          const field = profile.fields.find((f) => f.name === fieldName)!;
          parts.push(condition(column(profile, field, `${at}.${fieldName}`), filter, `${at}.${fieldName}`));
        }
      }
    }
    return parts.length ? sql`(${joinSql(parts, ' and ')})` : TRUE;
  };

  const whereSql = where ? compileWhere(where, 'where') : TRUE;

  const keys: SortKey[] = [];
  for (const [i, order] of (orderBy ?? []).entries()) {
    const desc = order.direction === 'DESC';
    if (order.field === 'identifier') keys.push({ sql: rawSql('u.identifier_key'), desc, type: 'text' });
    else if (order.field === 'createdAt') keys.push({ sql: rawSql('u.created_at'), desc, type: 'timestamptz' });
    else {
      const resolved = registry.resolveStrict(order.field);
      if (resolved.field.kind === 'json') throw badInput({ [`orderBy[${i}].field`]: 'JSON fields cannot be sorted.' });
      keys.push({ sql: column(resolved.profile, resolved.field, `orderBy[${i}].field`).sql, desc, type: SORT_TYPES[resolved.field.kind]! });
    }
  }
  keys.push({ sql: rawSql('u.id'), desc: false, type: 'bigint' });
  const orderParts = keys.map((key) => sql`${key.sql} ${rawSql(key.desc ? 'desc' : 'asc')}`);

  const from = joinSql(
    [rawSql('users u'), ...[...joins].map((p) => sql`left join ${ident(p.table)} as ${ident(`p_${p.name}`)} on ${ident(`p_${p.name}`, 'user_id')} = u.id`)],
    ' ',
  );
  return { from, where: whereSql, orderBy: joinSql(orderParts), keys, uses };
}

const datetimeField: ProfileField = {
  name: 'createdAt',
  column: 'created_at',
  kind: 'datetime',
  graphqlType: 'DateTime',
  nullable: false,
  defaultValue: undefined,
  unique: false,
  private: false,
  readonly: true,
  maxLength: undefined,
  enumValues: undefined,
  description: undefined,
};

/**
 * `follows: X` — users with a follow row towards X; `followedBy: X` — users X has a row
 * towards; of status `status` (NONE means no row at all). `id` is a parsed id.
 */
function relationship(key: 'follows' | 'followedBy', id: string, status: 'CONFIRMED' | 'PENDING' | 'NONE'): Sql {
  const [mine, theirs] = key === 'follows' ? ['follower_id', 'followee_id'] : ['followee_id', 'follower_id'];
  const own = ident('f', mine);
  const other = ident('f', theirs);
  if (status === 'NONE') return sql`(u.id <> ${id} and not exists (select 1 from follows f where ${own} = u.id and ${other} = ${id}))`;
  return sql`exists (select 1 from follows f where ${own} = u.id and ${other} = ${id} and f.status = ${status})`;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

const comparisons: Record<string, string> = { eq: '=', ne: 'is distinct from', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** One filter object on one operand: every operator given must hold. */
function condition(operand: Operand, filter: Filter, path: string): Sql {
  const bind = (value: unknown, op: string): Sql => {
    if (operand.identifier) {
      if (typeof value !== 'string') throw badInput({ [`${path}.${op}`]: 'Expected a string.' });
      return sql`${['eq', 'ne', 'in'].includes(op) ? identifierKey(value) : value}`;
    }
    const field = operand.field;
    if (!field) return sql`${value}`;
    const problem = checkValue({ ...field, nullable: false, maxLength: undefined }, value);
    if (problem) throw badInput({ [`${path}.${op}`]: problem });
    return valueSql(field, value);
  };
  const lhs = (op: string): Sql => (operand.identifier && ['eq', 'ne', 'in'].includes(op) ? rawSql('u.identifier_key') : operand.sql);
  const parts: Sql[] = [];
  for (const [op, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (op === 'isNull') {
      if (value === null) continue;
      parts.push(sql`${lhs(op)} ${rawSql(value ? 'is null' : 'is not null')}`);
    } else if (value === null) {
      if (op === 'eq') parts.push(sql`${lhs(op)} is null`);
      else if (op === 'ne') parts.push(sql`${lhs(op)} is not null`);
      else throw badInput({ [`${path}.${op}`]: 'A value is required.' });
    } else if (op === 'in') {
      if (!Array.isArray(value)) throw badInput({ [`${path}.in`]: 'Expected a list.' });
      if (value.length > MAX_IN_VALUES) throw badInput({ [`${path}.in`]: `At most ${MAX_IN_VALUES} values.` });
      parts.push(value.length === 0 ? rawSql('false') : sql`${lhs(op)} in (${joinSql(value.map((v) => bind(v, op)))})`);
    } else if (op === 'contains' || op === 'startsWith') {
      if (typeof value !== 'string') throw badInput({ [`${path}.${op}`]: 'Expected a string.' });
      if (operand.field && !['string', 'email', 'url', 'enum'].includes(operand.field.kind)) {
        throw badInput({ [`${path}.${op}`]: 'Only text fields support this operator.' });
      }
      const pattern = op === 'contains' ? `%${likeEscape(value)}%` : `${likeEscape(value)}%`;
      parts.push(sql`${lhs(op)} ilike ${pattern}`);
    } else if (comparisons[op]) {
      if (operand.field?.kind === 'json' || (operand.field?.kind === 'boolean' && !['eq', 'ne'].includes(op))) {
        throw badInput({ [`${path}.${op}`]: 'This field does not support this operator.' });
      }
      parts.push(sql`${lhs(op)} ${rawSql(comparisons[op])} ${bind(value, op)}`);
    } else {
      throw badInput({ [`${path}.${op}`]: 'Unknown operator.' });
    }
  }
  return parts.length ? sql`(${joinSql(parts, ' and ')})` : TRUE;
}
