import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../errors.ts';
import { cursors, pageInfo, type PageInfo } from '../../pagination.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { compileUserQuery, type UserOrder, type UserWhere } from '../../profiles/user-query.ts';
import { userColumns, userFromRow, type UserEntity } from './user.entity.ts';
import { identifierKey } from './identifier.ts';

/** A Relay page of users. `totalCount` is computed only when asked for. */
export interface UserPage {
  edges: { cursor: string; node: UserEntity }[];
  pageInfo: PageInfo;
  totalCount: number | null;
}

/** Cursors are opaque offsets into the ordered list. */
const offsets = cursors('o');

/** Reads of accounts. Writes belong to the auth flows (signup, password changes). */
export class UserService {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly pages: { defaultSize: number; maxSize: number },
  ) {}

  /** The user with this id, or null. `id` is a decimal string; anything else finds nothing. */
  async findById(em: EntityManager, id: string): Promise<UserEntity | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const [row] = await em.execute(`select ${userColumns('u')} from users u where u.id = ?`, [id]);
    return row ? userFromRow(row) : null;
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
  ): Promise<UserPage> {
    const first = args.first ?? this.pages.defaultSize;
    if (first < 0) throw badInput({ first: 'Must not be negative.' });
    const size = Math.min(first, this.pages.maxSize);
    const offset = args.after ? Number(offsets.decode(args.after)) + 1 : 0;
    const q = compileUserQuery(this.registry, args.where, args.orderBy);
    const [rows, count] = await Promise.all([
      em.execute<Record<string, unknown>[]>(
        `select ${userColumns('u')} from ${q.from} where ${q.where} order by ${q.orderBy} limit ? offset ?`,
        [...q.fromParams, ...q.whereParams, ...q.orderParams, size + 1, offset],
      ),
      withCount
        ? em.execute<{ n: number }[]>(`select count(*)::int as n from ${q.from} where ${q.where}`, [...q.fromParams, ...q.whereParams])
        : Promise.resolve(null),
    ]);
    const nodes = rows.slice(0, size).map(userFromRow);
    const edges = nodes.map((node, i) => ({ cursor: offsets.encode(offset + i), node }));
    return { edges, pageInfo: pageInfo(edges, rows.length > size, offset > 0), totalCount: count ? count[0]!.n : null };
  }
}
