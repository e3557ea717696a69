import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../errors.ts';
import { keysetCursors, pageInfo } from '../../pagination.ts';
import { ident, joinSql, rawSql, sql, valueList } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { EMPTY_PLAN, joinedReads, planKey, type Lookahead, type PrimeTargets, type UserColumn } from '../users/lookahead.ts';
import { userColumns as columnsOf, userFromRow, type UserEntity } from '../users/user.entity.ts';
import type { FollowPage, FollowStatus } from './follow.types.ts';

/** Follow-list cursors hold the row's `confirmed_at` (as PostgreSQL text) and id: keyset pagination. */
const keysets = keysetCursors('f');
const LIST_ORDER = 'confirmed_at desc, id desc';

/**
 * The follow counts as look-ahead columns of a user read (`followersCount`, `followingCount`):
 * a counting subquery in the users' own statement, primed into the count loaders.
 */
export const followCountColumns: Readonly<Record<string, UserColumn<PrimeTargets & { follows: FollowLoaders }>>> = {
  followersCount: {
    select: rawSql(`(select count(*)::int from follows fc where fc.followee_id = u.id and fc.status = 'CONFIRMED')`),
    prime: (loaders, userId, value) => loaders.follows.followersCount.prime(userId, Number(value)),
  },
  followingCount: {
    select: rawSql(`(select count(*)::int from follows fc where fc.follower_id = u.id and fc.status = 'CONFIRMED')`),
    prime: (loaders, userId, value) => loaders.follows.followingCount.prime(userId, Number(value)),
  },
};

const userColumns = rawSql(columnsOf('u'));

/**
 * Per-request DataLoaders of the follow graph: counts, the viewer's status towards each
 * user, follow requests and follow-list pages. Each kind costs one statement per request
 * batch whatever the number of users on the page (SPEC §7).
 */
export class FollowLoaders {
  constructor(
    private readonly em: EntityManager,
    private readonly viewerId: string | undefined,
    private readonly pageSize: { defaultSize: number; maxSize: number },
  ) {}

  readonly followersCount = new DataLoader<string, number>((ids) => this.counts('followee_id', ids));
  readonly followingCount = new DataLoader<string, number>((ids) => this.counts('follower_id', ids));

  /** The viewer's follow status towards each user (`NONE` without a viewer). */
  readonly viewerStatus = new DataLoader<string, FollowStatus>(async (ids) => {
    if (!this.viewerId) return ids.map(() => 'NONE');
    const rows = await execute<{ id: string; status: FollowStatus }[]>(
      this.em,
      sql`select followee_id as id, status from follows where follower_id = ${this.viewerId} and followee_id in ${valueList(ids)}`,
    );
    const byId = new Map(rows.map((r) => [String(r.id), r.status]));
    return ids.map((id) => byId.get(id) ?? 'NONE');
  });

  /** Pending requests to each user, oldest first. */
  readonly requests = new DataLoader<string, { follower: UserEntity; requestedAt: Date }[]>(async (ids) => {
    const rows = await execute(
      this.em,
      sql`select f.followee_id as owner, f.created_at as requested_at, ${userColumns}
         from follows f join users u on u.id = f.follower_id
        where f.status = 'PENDING' and f.followee_id in ${valueList(ids)}
        order by f.created_at, f.id`,
    );
    const byOwner = new Map<string, { follower: UserEntity; requestedAt: Date }[]>();
    for (const row of rows) {
      const list = byOwner.get(String(row.owner)) ?? [];
      list.push({ follower: userFromRow(row), requestedAt: new Date(row.requested_at as string) });
      byOwner.set(String(row.owner), list);
    }
    return ids.map((id) => byOwner.get(id) ?? []);
  });

  /** Look-aheads of the pages asked for in this request, by {@link planKey}. */
  private readonly lookaheads = new Map<string, Lookahead>();

  private readonly pages = new DataLoader<string, FollowPage>(async (keys) => {
    // Keys are `direction|first|after|plan|userId`; one statement per distinct (direction, first, after, plan).
    const groups = new Map<string, string[]>();
    for (const key of keys) {
      const cut = key.lastIndexOf('|');
      const group = groups.get(key.slice(0, cut)) ?? [];
      group.push(key.slice(cut + 1));
      groups.set(key.slice(0, cut), group);
    }
    const results = new Map<string, FollowPage>();
    for (const [group, ids] of groups) {
      const [direction, first, after, plan] = group.split('|') as ['followers' | 'following', string, string, string];
      const pages = await this.page(direction, ids, Number(first), after === '' ? null : after, this.lookaheads.get(plan));
      for (const [id, page] of pages) results.set(`${group}|${id}`, page);
    }
    return keys.map((key) => results.get(key)!);
  });

  /**
   * One page of `userId`'s followers or followed users, newest first. With `lookahead`, the
   * nodes' profiles and columns are read in the page's own statement. Errors: `BAD_USER_INPUT`
   * for a negative `first` or a cursor not of this list.
   */
  list(
    direction: 'followers' | 'following',
    userId: string,
    args: { first?: number | null; after?: string | null },
    lookahead?: Lookahead,
  ): Promise<FollowPage> {
    const first = args.first ?? this.pageSize.defaultSize;
    if (first < 0) throw badInput({ first: 'Must not be negative.' });
    if (args.after) keysets.decode(args.after, LIST_ORDER, 2);
    const plan = planKey(lookahead?.plan ?? EMPTY_PLAN);
    if (lookahead && !this.lookaheads.has(plan)) this.lookaheads.set(plan, lookahead);
    return this.pages.load(`${direction}|${Math.min(first, this.pageSize.maxSize)}|${args.after ?? ''}|${plan}|${userId}`);
  }

  private async page(
    direction: 'followers' | 'following',
    ids: string[],
    size: number,
    after: string | null,
    lookahead: Lookahead | undefined,
  ): Promise<Map<string, FollowPage>> {
    const [own, other] = direction === 'followers' ? ['followee_id', 'follower_id'] : ['follower_id', 'followee_id'];
    const owners = joinSql(ids.map((id) => sql`(${id}::bigint)`));
    let seek = rawSql('true');
    if (after) {
      const [at, id] = keysets.decode(after, LIST_ORDER, 2);
      if (at === null || id === null) throw badInput({ after: 'Not a cursor of this list.' });
      seek = sql`(f.confirmed_at, f.id) < (cast(${at} as timestamptz), cast(${id} as bigint))`;
    }
    const joined = joinedReads(lookahead);
    const rows = await execute(
      this.em,
      sql`select t.owner, f.confirmed_at as since, f.confirmed_at::text as since_key, f.id as follow_id, ${userColumns}${joined.select}
         from (values ${owners}) as t(owner)
         cross join lateral (
           select * from follows f where ${ident('f', own)} = t.owner and f.status = 'CONFIRMED' and ${seek}
            order by f.confirmed_at desc, f.id desc limit ${size + 1}
         ) f
         join users u on u.id = ${ident('f', other)}${joined.from}
        order by t.owner, f.confirmed_at desc, f.id desc`,
    );
    const byOwner = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) {
      const list = byOwner.get(String(row.owner)) ?? [];
      list.push(row);
      byOwner.set(String(row.owner), list);
    }
    return new Map(
      ids.map((id) => {
        const list = byOwner.get(id) ?? [];
        const edges = list.slice(0, size).map((row) => {
          joined.prime(row);
          return {
            cursor: keysets.encode(LIST_ORDER, [row.since_key as string, String(row.follow_id)]),
            node: userFromRow(row),
            since: new Date(row.since as string),
          };
        });
        return [id, { edges, pageInfo: pageInfo(edges, list.length > size, after !== null) }];
      }),
    );
  }

  private async counts(column: 'followee_id' | 'follower_id', ids: readonly string[]): Promise<number[]> {
    const col = ident(column);
    const rows = await execute<{ id: string; n: number }[]>(
      this.em,
      sql`select ${col} as id, count(*)::int as n from follows where status = 'CONFIRMED' and ${col} in ${valueList(ids)} group by ${col}`,
    );
    const byId = new Map(rows.map((r) => [String(r.id), r.n]));
    return ids.map((id) => byId.get(id) ?? 0);
  }
}
