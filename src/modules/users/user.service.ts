import type { EntityManager } from '@mikro-orm/postgresql';
import type { QueryUsersArgs } from '../../__generated__/resolvers-types.ts';
import { badInput } from '../../errors.ts';
import { canonicalId } from '../../ids.ts';
import { cursors, pageInfo } from '../../pagination.ts';
import type { ProfileLoaders } from '../../profiles/loaders.ts';
import type { ProfileDefinition } from '../../profiles/model.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import type { RequestScope } from '../../request.ts';
import { ident, joinSql, rawSql, sql, valueList, type Sql } from '../../profiles/sql.ts';
import { execute, rowOf, selectList } from '../../profiles/store.ts';
import { requireListAccess } from '../permissions/access.ts';
import { identifierKey } from './identifier.ts';
import { userColumns, userFromRow, type UserEntity } from './user.entity.ts';
import { compileUserQuery } from './user-query.ts';
import type { UserPage } from './user.types.ts';

/** Profiles a query will read for each user, and the loaders to prime with them. */
export interface Lookahead {
  profiles: readonly ProfileDefinition[];
  loaders: ProfileLoaders;
}

/**
 * Select-list and join pieces reading `lookahead.profiles` beside the user (alias `l_<name>`,
 * columns prefixed `<name>__`), and `prime(row)` handing each found profile row to the loaders.
 * A missing row is not primed: the loader then creates it lazily, batched, as usual.
 */
function joinedProfiles(lookahead: Lookahead | undefined): { select: Sql; from: Sql; prime(row: Record<string, unknown>): void } {
  const profiles = lookahead?.profiles ?? [];
  return {
    select: joinSql(
      profiles.map((p) => sql`, ${selectList(p, `l_${p.name}`, `${p.name}__`)}`),
      '',
    ),
    from: joinSql(
      profiles.map((p) => sql` left join ${ident(p.table)} as ${ident(`l_${p.name}`)} on ${ident(`l_${p.name}`, 'user_id')} = u.id`),
      '',
    ),
    prime(row) {
      for (const p of profiles) {
        const found = rowOf(p, row, `${p.name}__`);
        if (found) lookahead!.loaders.prime(p.name, String(row.id), found);
      }
    },
  };
}

const USER_COLUMNS = rawSql(userColumns('u'));

/** Cursors are opaque offsets into the ordered list. */
const offsets = cursors('o');

/** Reads of accounts. Writes belong to the auth flows (signup, password changes). */
export class UserService {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly pages: { defaultSize: number; maxSize: number },
  ) {}

  /**
   * The user with this id, or null. `id` is a decimal string (leading zeros allowed, see
   * `canonicalId`); anything else finds nothing.
   * With `lookahead`, the given profiles are read in the same statement (left joins) and
   * primed into the request's loaders.
   */
  async findById(em: EntityManager, id: string, lookahead?: Lookahead): Promise<UserEntity | null> {
    const canonical = canonicalId(id);
    if (canonical === null) return null;
    const joined = joinedProfiles(lookahead);
    const [row] = await execute(em, sql`select ${USER_COLUMNS}${joined.select} from users u${joined.from} where u.id = ${canonical}`);
    if (!row) return null;
    joined.prime(row);
    return userFromRow(row);
  }

  /**
   * Users by id in one statement, in the order of `ids`, null for unknown or malformed ids
   * (the batch function of the per-request users DataLoader).
   */
  async findManyById(em: EntityManager, ids: readonly string[]): Promise<(UserEntity | null)[]> {
    const canonical = ids.map(canonicalId);
    const valid = [...new Set(canonical.filter((id) => id !== null))];
    const rows = valid.length ? await execute(em, sql`select ${USER_COLUMNS} from users u where u.id in ${valueList(valid)}`) : [];
    const byId = new Map(rows.map((row) => [String(row.id), userFromRow(row)]));
    return canonical.map((id) => (id === null ? null : (byId.get(id) ?? null)));
  }

  /** The user whose identifier matches case-insensitively after NFKC normalisation, or null. */
  async findByIdentifier(em: EntityManager, identifier: string): Promise<UserEntity | null> {
    const [row] = await execute(em, sql`select ${USER_COLUMNS} from users u where u.identifier_key = ${identifierKey(identifier)}`);
    return row ? userFromRow(row) : null;
  }

  /**
   * One page of users matching `where`, sorted by `orderBy` then id: one statement for the
   * page (joining only the profile tables the conditions use) plus one for `totalCount` when
   * `withCount`. `first` defaults to the configured page size and is capped at the maximum.
   * Before any statement, the viewer of `scope` must be allowed every field and relationship
   * the conditions and sort keys use (`requireListAccess`: `@private` fields are staff-only).
   * Errors: `BAD_USER_INPUT`, `PROFILE_KEY_UNKNOWN`, `PROFILE_KEY_AMBIGUOUS`, `FORBIDDEN`.
   */
  async page(scope: Pick<RequestScope, 'em' | 'viewer' | 'loaders'>, args: QueryUsersArgs, withCount: boolean, lookahead?: Lookahead): Promise<UserPage> {
    const em = scope.em;
    const first = args.first ?? this.pages.defaultSize;
    if (first < 0) throw badInput({ first: 'Must not be negative.' });
    const size = Math.min(first, this.pages.maxSize);
    const offset = args.after ? Number(offsets.decode(args.after)) + 1 : 0;
    const q = compileUserQuery(this.registry, args.where, args.orderBy);
    await requireListAccess(scope, q.uses);
    const joined = joinedProfiles(lookahead);
    // The page is chosen first (filter joins only), then its rows are joined with the
    // selected profiles, so the join touches one page of users, not every match.
    const [rows, count] = await Promise.all([
      execute(
        em,
        sql`select ${USER_COLUMNS}${joined.select}
           from (select ${USER_COLUMNS}, row_number() over (order by ${q.orderBy}) as position
                   from ${q.from} where ${q.where} order by ${q.orderBy} limit ${size + 1} offset ${offset}) u${joined.from}
          order by u.position`,
      ),
      withCount ? execute<{ n: number }[]>(em, sql`select count(*)::int as n from ${q.from} where ${q.where}`) : Promise.resolve(null),
    ]);
    const nodes = rows.slice(0, size).map((row) => {
      joined.prime(row);
      return userFromRow(row);
    });
    const edges = nodes.map((node, i) => ({ cursor: offsets.encode(offset + i), node }));
    return { edges, pageInfo: pageInfo(edges, rows.length > size, offset > 0), totalCount: count ? count[0]!.n : null };
  }
}
