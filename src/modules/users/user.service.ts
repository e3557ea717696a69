import type { EntityManager } from '@mikro-orm/postgresql';
import type { QueryUsersArgs } from '../../__generated__/resolvers-types.ts';
import { badInput } from '../../errors.ts';
import { canonicalId } from '../../ids.ts';
import { keysetCursors, pageInfo } from '../../pagination.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import type { RequestScope } from '../../request.ts';
import { joinSql, rawSql, sql, valueList } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { requireListAccess } from '../permissions/access.ts';
import { identifierKey } from './identifier.ts';
import { userColumns, userFromRow, type UserEntity } from './user.entity.ts';
import { joinedReads, type Lookahead } from './lookahead.ts';
import { compileUserQuery, seekAfter } from './user-query.ts';
import type { UserPage } from './user.types.ts';

const USER_COLUMNS = rawSql(userColumns('u'));

/** Cursors hold the sort keys of their row (keyset pagination): deep pages cost what the first does. */
const keysets = keysetCursors('u');

/** Reads of accounts. Writes belong to the auth flows (signup, password changes). */
export class UserService {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly pages: { defaultSize: number; maxSize: number },
  ) {}

  /**
   * The user with this id, or null. `id` is a decimal string (leading zeros allowed, see
   * `canonicalId`); anything else finds nothing.
   * With `lookahead`, its plan's profiles and columns are read in the same statement (left
   * joins, scalar subqueries) and primed into the request's loaders.
   */
  async findById(em: EntityManager, id: string, lookahead?: Lookahead): Promise<UserEntity | null> {
    const canonical = canonicalId(id);
    if (canonical === null) return null;
    const joined = joinedReads(lookahead);
    const [row] = await execute(em, sql`select ${USER_COLUMNS}${joined.select} from users u${joined.from} where u.id = ${canonical}`);
    if (!row) return null;
    joined.prime(row);
    return userFromRow(row);
  }

  /**
   * Users by id in one statement, in the order of `ids`, null for unknown or malformed ids
   * (the batch function of the per-request users DataLoader). With `lookahead`, as
   * {@link findById}.
   */
  async findManyById(em: EntityManager, ids: readonly string[], lookahead?: Lookahead): Promise<(UserEntity | null)[]> {
    const canonical = ids.map(canonicalId);
    const valid = [...new Set(canonical.filter((id) => id !== null))];
    const joined = joinedReads(lookahead);
    const rows = valid.length
      ? await execute(em, sql`select ${USER_COLUMNS}${joined.select} from users u${joined.from} where u.id in ${valueList(valid)}`)
      : [];
    for (const row of rows) joined.prime(row);
    const byId = new Map(rows.map((row) => [String(row.id), userFromRow(row)]));
    return canonical.map((id) => (id === null ? null : (byId.get(id) ?? null)));
  }

  /**
   * The user whose identifier matches case-insensitively after NFKC normalisation, or null.
   * With `lookahead`, as {@link findById}.
   */
  async findByIdentifier(em: EntityManager, identifier: string, lookahead?: Lookahead): Promise<UserEntity | null> {
    const joined = joinedReads(lookahead);
    const [row] = await execute(
      em,
      sql`select ${USER_COLUMNS}${joined.select} from users u${joined.from} where u.identifier_key = ${identifierKey(identifier)}`,
    );
    if (!row) return null;
    joined.prime(row);
    return userFromRow(row);
  }

  /**
   * One page of users matching `where`, sorted by `orderBy` then id: one statement for the
   * page (joining only the profile tables the conditions use, then the look-ahead's reads for
   * the page's rows) plus one for `totalCount` when `withCount`. Cursors are keyset cursors
   * (the row's sort keys), so a page deep in the list costs what the first does and stays
   * right under concurrent inserts; a cursor made for another `orderBy` is `BAD_USER_INPUT`. `first` defaults to the configured page size and is capped at the maximum.
   * Before any statement, the viewer of `scope` must be allowed every field and relationship
   * the conditions and sort keys use (`requireListAccess`: `@private` fields are staff-only).
   * Errors: `BAD_USER_INPUT`, `PROFILE_KEY_UNKNOWN`, `PROFILE_KEY_AMBIGUOUS`, `FORBIDDEN`.
   */
  async page(scope: Pick<RequestScope, 'em' | 'viewer' | 'loaders'>, args: QueryUsersArgs, withCount: boolean, lookahead?: Lookahead): Promise<UserPage> {
    const em = scope.em;
    const first = args.first ?? this.pages.defaultSize;
    if (first < 0) throw badInput({ first: 'Must not be negative.' });
    const size = Math.min(first, this.pages.maxSize);
    const q = compileUserQuery(this.registry, args.where, args.orderBy);
    const order = JSON.stringify(args.orderBy ?? []);
    const seek = args.after ? seekAfter(q.keys, keysets.decode(args.after, order, q.keys.length)) : rawSql('true');
    await requireListAccess(scope, q.uses);
    const joined = joinedReads(lookahead);
    const keyColumns = joinSql(q.keys.map((key, i) => sql`(${key.sql})::text as ${rawSql(`"k__${i}"`)}`));
    // The page is chosen first (filter joins only), then its rows are joined with the
    // selected profiles, so the join touches one page of users, not every match.
    const [rows, count] = await Promise.all([
      execute(
        em,
        sql`select ${USER_COLUMNS}${joined.select}, ${joinSql(q.keys.map((_k, i) => rawSql(`u."k__${i}"`)))}
           from (select ${USER_COLUMNS}, ${keyColumns}, row_number() over (order by ${q.orderBy}) as position
                   from ${q.from} where ${q.where} and ${seek} order by ${q.orderBy} limit ${size + 1}) u${joined.from}
          order by u.position`,
      ),
      withCount ? execute<{ n: number }[]>(em, sql`select count(*)::int as n from ${q.from} where ${q.where}`) : Promise.resolve(null),
    ]);
    const nodes = rows.slice(0, size).map((row) => {
      joined.prime(row);
      return userFromRow(row);
    });
    const edges = nodes.map((node, i) => ({
      cursor: keysets.encode(
        order,
        q.keys.map((_k, j) => (rows[i]![`k__${j}`] as string | null) ?? null),
      ),
      node,
    }));
    return { edges, pageInfo: pageInfo(edges, rows.length > size, args.after != null), totalCount: count ? count[0]!.n : null };
  }
}
