import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../errors.ts';
import { cursors, pageInfo } from '../../pagination.ts';
import { ident, joinSql, rawSql, sql, valueList } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { userColumns as columnsOf, userFromRow, type UserEntity } from '../users/user.entity.ts';
import type { FollowPage, FollowStatus } from './follow.types.ts';

const offsets = cursors('f');

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

  private readonly pages = new DataLoader<string, FollowPage>(async (keys) => {
    // Keys are `direction|first|offset|userId`; one statement per distinct (direction, first, offset).
    const groups = new Map<string, string[]>();
    for (const key of keys) {
      const cut = key.lastIndexOf('|');
      const group = groups.get(key.slice(0, cut)) ?? [];
      group.push(key.slice(cut + 1));
      groups.set(key.slice(0, cut), group);
    }
    const results = new Map<string, FollowPage>();
    for (const [group, ids] of groups) {
      const [direction, first, offset] = group.split('|') as ['followers' | 'following', string, string];
      for (const [id, page] of await this.page(direction, ids, Number(first), Number(offset))) results.set(`${group}|${id}`, page);
    }
    return keys.map((key) => results.get(key)!);
  });

  /** One page of `userId`'s followers or followed users, newest first. */
  list(direction: 'followers' | 'following', userId: string, args: { first?: number | null; after?: string | null }): Promise<FollowPage> {
    const first = args.first ?? this.pageSize.defaultSize;
    if (first < 0) throw badInput({ first: 'Must not be negative.' });
    const offset = args.after ? Number(offsets.decode(args.after)) + 1 : 0;
    return this.pages.load(`${direction}|${Math.min(first, this.pageSize.maxSize)}|${offset}|${userId}`);
  }

  private async page(direction: 'followers' | 'following', ids: string[], size: number, offset: number): Promise<Map<string, FollowPage>> {
    const [own, other] = direction === 'followers' ? ['followee_id', 'follower_id'] : ['follower_id', 'followee_id'];
    const owners = joinSql(ids.map((id) => sql`(${id}::bigint)`));
    const rows = await execute(
      this.em,
      sql`select t.owner, f.confirmed_at as since, ${userColumns}
         from (values ${owners}) as t(owner)
         cross join lateral (
           select * from follows f where ${ident('f', own)} = t.owner and f.status = 'CONFIRMED'
            order by f.confirmed_at desc, f.id desc limit ${size + 1} offset ${offset}
         ) f
         join users u on u.id = ${ident('f', other)}`,
    );
    const byOwner = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) byOwner.set(String(row.owner), [...(byOwner.get(String(row.owner)) ?? []), row]);
    return new Map(
      ids.map((id) => {
        const list = byOwner.get(id) ?? [];
        const edges = list
          .slice(0, size)
          .map((row, i) => ({ cursor: offsets.encode(offset + i), node: userFromRow(row), since: new Date(row.since as string) }));
        return [id, { edges, pageInfo: pageInfo(edges, list.length > size, offset > 0) }];
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
