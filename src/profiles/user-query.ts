import { badInput } from '../errors.ts';
import { identifierKey } from '../modules/users/identifier.ts';
import type { ProfileDefinition, ProfileField } from './model.ts';
import { checkValue } from './parse.ts';
import type { ProfileRegistry } from './registry.ts';
import { valueSql } from './store.ts';

/** Operators of the filter inputs (`StringFilter`, `IntFilter`, …, `DataFilter`). */
type Filter = Partial<Record<'eq' | 'ne' | 'in' | 'contains' | 'startsWith' | 'gt' | 'gte' | 'lt' | 'lte' | 'isNull', unknown>>;

/** `UserWhere` as GraphQL hands it over. */
export interface UserWhere {
  identifier?: Filter | null;
  createdAt?: Filter | null;
  data?: ({ key: string } & Filter)[] | null;
  AND?: UserWhere[] | null;
  OR?: UserWhere[] | null;
  follows?: string | null;
  followedBy?: string | null;
  followStatus?: 'NONE' | 'PENDING' | 'CONFIRMED' | null;
  [profile: string]: unknown;
}

export interface UserOrder {
  field: string;
  direction?: 'ASC' | 'DESC' | null;
}

/** SQL pieces of a user list: `from … join …`, `where …` and `order by …`, with bound parameters. */
export interface UserQuery {
  from: string;
  fromParams: unknown[];
  where: string;
  whereParams: unknown[];
  orderBy: string;
  orderParams: unknown[];
}

/** A column expression with its parameters and the field it holds (for value conversion). */
interface Operand {
  sql: string;
  params: unknown[];
  field: ProfileField | undefined;
  /** Compare through `identifierKey` (case- and normalisation-insensitive identifier match). */
  identifier?: boolean;
}

/**
 * Compiles `where` and `orderBy` of `users` into SQL over `users u`, joining
 * `profile_<name> p_<name>` (left join) only for profiles the conditions or sort keys use.
 * A missing row of an auto-created profile reads as the field's default (`coalesce`), as it
 * will once created. Bag keys resolve strictly: an unqualified key several profiles define is
 * `PROFILE_KEY_AMBIGUOUS`. Invalid values are `BAD_USER_INPUT` with the path of the input.
 */
export function compileUserQuery(registry: ProfileRegistry, where: UserWhere | null | undefined, orderBy: readonly UserOrder[] | null | undefined): UserQuery {
  const joins = new Set<ProfileDefinition>();
  const column = (profile: ProfileDefinition, field: ProfileField): Operand => {
    joins.add(profile);
    const alias = `p_${profile.name}`;
    if (profile.autoCreate && field.defaultValue !== undefined && field.defaultValue !== null) {
      const fallback = valueSql(field, field.defaultValue);
      return { sql: `coalesce(??.??, ${fallback.sql})`, params: [alias, field.column, ...fallback.params], field };
    }
    return { sql: '??.??', params: [alias, field.column], field };
  };

  const compileWhere = (w: UserWhere, path: string): { sql: string; params: unknown[] } => {
    const parts: { sql: string; params: unknown[] }[] = [];
    for (const [key, value] of Object.entries(w)) {
      if (value === null || value === undefined) continue;
      const at = `${path}.${key}`;
      if (key === 'identifier') {
        parts.push(condition({ sql: 'u.identifier', params: [], field: undefined, identifier: true }, value as Filter, at));
      } else if (key === 'createdAt') {
        parts.push(condition({ sql: 'u.created_at', params: [], field: datetimeField }, value as Filter, at));
      } else if (key === 'data') {
        for (const [i, f] of (value as ({ key: string } & Filter)[]).entries()) {
          const resolved = registry.resolveStrict(f.key);
          const { key: _k, ...ops } = f;
          parts.push(condition(column(resolved.profile, resolved.field), ops, `${at}[${i}]`));
        }
      } else if (key === 'follows' || key === 'followedBy') {
        parts.push(relationship(key, value as string, w.followStatus, at));
      } else if (key === 'followStatus') {
        if (w.follows == null && w.followedBy == null) throw badInput({ [at]: 'Give follows or followedBy with followStatus.' });
      } else if (key === 'AND' || key === 'OR') {
        const subs = (value as UserWhere[]).map((sub, i) => compileWhere(sub, `${at}[${i}]`));
        if (subs.length === 0) continue;
        parts.push({ sql: `(${subs.map((s) => s.sql).join(key === 'AND' ? ' and ' : ' or ')})`, params: subs.flatMap((s) => s.params) });
      } else {
        const profile = registry.get(key)!;
        for (const [fieldName, filter] of Object.entries(value as Record<string, Filter | null>)) {
          if (!filter) continue;
          const field = profile.fields.find((f) => f.name === fieldName)!;
          parts.push(condition(column(profile, field), filter, `${at}.${fieldName}`));
        }
      }
    }
    if (parts.length === 0) return { sql: 'true', params: [] };
    return { sql: `(${parts.map((p) => p.sql).join(' and ')})`, params: parts.flatMap((p) => p.params) };
  };

  const where$ = where ? compileWhere(where, 'where') : { sql: 'true', params: [] };

  const orderParts: string[] = [];
  const orderParams: unknown[] = [];
  for (const [i, order] of (orderBy ?? []).entries()) {
    const direction = order.direction === 'DESC' ? 'desc' : 'asc';
    let operand: Operand;
    if (order.field === 'identifier') operand = { sql: 'u.identifier_key', params: [], field: undefined };
    else if (order.field === 'createdAt') operand = { sql: 'u.created_at', params: [], field: undefined };
    else {
      const resolved = registry.resolveStrict(order.field);
      if (resolved.field.kind === 'json') throw badInput({ [`orderBy[${i}].field`]: 'JSON fields cannot be sorted.' });
      operand = column(resolved.profile, resolved.field);
    }
    orderParts.push(`${operand.sql} ${direction}`);
    orderParams.push(...operand.params);
  }
  orderParts.push('u.id asc');

  const fromParams: unknown[] = [];
  let from = 'users u';
  for (const profile of joins) {
    from += ' left join ?? as ?? on ??.user_id = u.id';
    fromParams.push(profile.table, `p_${profile.name}`, `p_${profile.name}`);
  }
  return { from, fromParams, where: where$.sql, whereParams: where$.params, orderBy: orderParts.join(', '), orderParams };
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
 * towards; of status `followStatus` (default CONFIRMED; NONE means no row at all).
 */
function relationship(key: 'follows' | 'followedBy', userId: string, status: string | null | undefined, path: string) {
  if (!/^\d{1,19}$/.test(userId)) throw badInput({ [path]: 'Not a user id.' });
  const [mine, theirs] = key === 'follows' ? ['follower_id', 'followee_id'] : ['followee_id', 'follower_id'];
  const wanted = status ?? 'CONFIRMED';
  if (wanted === 'NONE') {
    return { sql: `(u.id <> ? and not exists (select 1 from follows f where f.${mine} = u.id and f.${theirs} = ?))`, params: [userId, userId] };
  }
  return { sql: `exists (select 1 from follows f where f.${mine} = u.id and f.${theirs} = ? and f.status = ?)`, params: [userId, wanted] };
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** One filter object on one operand: every operator given must hold. */
function condition(operand: Operand, filter: Filter, path: string): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown, op: string): string => {
    if (operand.identifier) {
      if (typeof value !== 'string') throw badInput({ [`${path}.${op}`]: 'Expected a string.' });
      params.push(['eq', 'ne', 'in'].includes(op) ? identifierKey(value) : value);
      return '?';
    }
    const field = operand.field;
    if (field) {
      const problem = checkValue({ ...field, nullable: false, maxLength: undefined }, value);
      if (problem) throw badInput({ [`${path}.${op}`]: problem });
      const v = valueSql(field, value);
      params.push(...v.params);
      return v.sql;
    }
    params.push(value);
    return '?';
  };
  const lhs = (op: string) => {
    params.push(...operand.params);
    return operand.identifier && ['eq', 'ne', 'in'].includes(op) ? 'u.identifier_key' : operand.sql;
  };
  const comparisons: Record<string, string> = { eq: '=', ne: 'is distinct from', gt: '>', gte: '>=', lt: '<', lte: '<=' };
  for (const [op, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (op === 'isNull') {
      if (value === null) continue;
      parts.push(`${lhs(op)} ${value ? 'is null' : 'is not null'}`);
    } else if (value === null) {
      if (op === 'eq') parts.push(`${lhs(op)} is null`);
      else if (op === 'ne') parts.push(`${lhs(op)} is not null`);
      else throw badInput({ [`${path}.${op}`]: 'A value is required.' });
    } else if (op === 'in') {
      const list = value as unknown[];
      if (!Array.isArray(list)) throw badInput({ [`${path}.in`]: 'Expected a list.' });
      if (list.length === 0) parts.push('false');
      else {
        const left = lhs(op);
        parts.push(`${left} in (${list.map((v) => bind(v, op)).join(', ')})`);
      }
    } else if (op === 'contains' || op === 'startsWith') {
      if (typeof value !== 'string') throw badInput({ [`${path}.${op}`]: 'Expected a string.' });
      if (operand.field && !['string', 'email', 'url', 'enum'].includes(operand.field.kind)) {
        throw badInput({ [`${path}.${op}`]: 'Only text fields support this operator.' });
      }
      const left = lhs(op);
      params.push(op === 'contains' ? `%${likeEscape(value)}%` : `${likeEscape(value)}%`);
      parts.push(`${left} ilike ?`);
    } else if (comparisons[op]) {
      if (operand.field?.kind === 'json' || operand.field?.kind === 'boolean' && !['eq', 'ne'].includes(op)) {
        throw badInput({ [`${path}.${op}`]: 'This field does not support this operator.' });
      }
      const left = lhs(op);
      parts.push(`${left} ${comparisons[op]} ${bind(value, op)}`);
    } else {
      throw badInput({ [`${path}.${op}`]: 'Unknown operator.' });
    }
  }
  if (parts.length === 0) return { sql: 'true', params: [] };
  return { sql: `(${parts.join(' and ')})`, params };
}
