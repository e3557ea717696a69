import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../errors.ts';
import { cursors, pageInfo, type PageInfo } from '../../pagination.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { compileUserQuery, type UserOrder, type UserWhere } from '../../profiles/user-query.ts';
import type { ProfileLoaders } from '../../profiles/loaders.ts';
import type { ProfileDefinition } from '../../profiles/model.ts';
import { rowOf, selectList } from '../../profiles/store.ts';
import { userColumns, userFromRow, type UserEntity } from './user.entity.ts';
import { identifierKey } from './identifier.ts';

/** A Relay page of users. `totalCount` is computed only when asked for. */
export interface UserPage {
  edges: { cursor: string; node: UserEntity }[];
  pageInfo: PageInfo;
  totalCount: number | null;
}

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
function joinedProfiles(lookahead: Lookahead | undefined) {
  const profiles = lookahead?.profiles ?? [];
  const lists = profiles.map((p) => selectList(p, `l_${p.name}`, `${p.name}__`));
  return {
    select: lists.map((l) => `, ${l.sql}`).join(''),
    selectParams: lists.flatMap((l) => l.params),
    from: profiles.map(() => ' left join ?? as ?? on ??.user_id = u.id').join(''),
    fromParams: profiles.flatMap((p) => [p.table, `l_${p.name}`, `l_${p.name}`]),
    prime(row: Record<string, unknown>) {
      for (const p of profiles) {
        const found = rowOf(p, row, `${p.name}__`);
        if (found) lookahead!.loaders.prime(p.name, String(row.id), found);
      }
    },
  };
}

/** Cursors are opaque offsets into the ordered list. */
const offsets = cursors('o');

/** Reads of accounts. Writes belong to the auth flows (signup, password changes). */
export class UserService {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly pages: { defaultSize: number; maxSize: number },
  ) {}

  /**
   * The user with this id, or null. `id` is a decimal string; anything else finds nothing.
   * With `lookahead`, the given profiles are read in the same statement (left joins) and
   * primed into the request's loaders.
   */
  async findById(em: EntityManager, id: string, lookahead?: Lookahead): Promise<UserEntity | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const joined = joinedProfiles(lookahead);
    const [row] = await em.execute(
      `select ${userColumns('u')}${joined.select} from users u${joined.from} where u.id = ?`,
      [...joined.selectParams, ...joined.fromParams, id],
    );
    if (!row) return null;
    joined.prime(row);
    return userFromRow(row);
  }

  /**
   * Users by id in one statement, in the order of `ids`, null for unknown or malformed ids
   * (the batch function of the per-request users DataLoader).
   */
  async findManyById(em: EntityManager, ids: readonly string[]): Promise<(UserEntity | null)[]> {
    const valid = [...new Set(ids.filter((id) => /^\d{1,19}$/.test(id)))];
    const rows = valid.length
      ? await em.execute(`select ${userColumns('u')} from users u where u.id in (${valid.map(() => '?').join(', ')})`, valid)
      : [];
    const byId = new Map(rows.map((row) => [String(row.id), userFromRow(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The user whose identifier matches case-insensitively after NFKC normalisation, or null. */
  async findByIdentifier(em: EntityManager, identifier: string): Promise<UserEntity | null> {
    const [row] = await em.execute(`select ${userColumns('u')} from users u where u.identifier_key = ?`, [identifierKey(identifier)]);
    return row ? userFromRow(row) : null;
  }

  /**
   * One page of users matching `where`, sorted by `orderBy` then id: one statement for the
   * page (joining only the profile tables the conditions use) plus one for `totalCount` when
   * `withCount`. `first` defaults to the configured page size and is capped at the maximum.
   * Errors: `BAD_USER_INPUT`, `PROFILE_KEY_UNKNOWN`, `PROFILE_KEY_AMBIGUOUS`.
   */
  async page(
    em: EntityManager,
    args: { first?: number | null; after?: string | null; where?: UserWhere | null; orderBy?: UserOrder[] | null },
    withCount: boolean,
    lookahead?: Lookahead,
  ): Promise<UserPage> {
    const first = args.first ?? this.pages.defaultSize;
    if (first < 0) throw badInput({ first: 'Must not be negative.' });
    const size = Math.min(first, this.pages.maxSize);
    const offset = args.after ? Number(offsets.decode(args.after)) + 1 : 0;
    const q = compileUserQuery(this.registry, args.where, args.orderBy);
    const joined = joinedProfiles(lookahead);
    // The page is chosen first (filter joins only), then its rows are joined with the
    // selected profiles, so the join touches one page of users, not every match.
    const [rows, count] = await Promise.all([
      em.execute<Record<string, unknown>[]>(
        `select ${userColumns('u')}${joined.select}
           from (select ${userColumns('u')}, row_number() over (order by ${q.orderBy}) as position
                   from ${q.from} where ${q.where} order by ${q.orderBy} limit ? offset ?) u${joined.from}
          order by u.position`,
        [...joined.selectParams, ...q.orderParams, ...q.fromParams, ...q.whereParams, ...q.orderParams, size + 1, offset, ...joined.fromParams],
      ),
      withCount
        ? em.execute<{ n: number }[]>(`select count(*)::int as n from ${q.from} where ${q.where}`, [...q.fromParams, ...q.whereParams])
        : Promise.resolve(null),
    ]);
    const nodes = rows.slice(0, size).map((row) => {
      joined.prime(row);
      return userFromRow(row);
    });
    const edges = nodes.map((node, i) => ({ cursor: offsets.encode(offset + i), node }));
    return { edges, pageInfo: pageInfo(edges, rows.length > size, offset > 0), totalCount: count ? count[0]!.n : null };
  }
}
