import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../errors.ts';
import { cursors, pageInfo, type PageInfo } from '../../pagination.ts';
import { userColumns as columnsOf, userFromRow, type UserEntity } from '../users/user.entity.ts';
import type { FollowStatus } from './follow.service.ts';

/** A page of a follow list (followers or following), as `FollowConnection` expects. */
export interface FollowPage {
  edges: { cursor: string; node: UserEntity; since: Date }[];
  pageInfo: PageInfo;
}

const offsets = cursors('f');

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const userColumns = columnsOf('u');

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
    const rows = await this.em.execute<{ id: string; status: FollowStatus }[]>(
      `select followee_id as id, status from follows where follower_id = ? and followee_id in (${placeholders(ids.length)})`,
      [this.viewerId, ...ids],
    );
    const byId = new Map(rows.map((r) => [String(r.id), r.status]));
    return ids.map((id) => byId.get(id) ?? 'NONE');
  });

  /** Pending requests to each user, oldest first. */
  readonly requests = new DataLoader<string, { follower: UserEntity; requestedAt: Date }[]>(async (ids) => {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select f.followee_id as owner, f.created_at as requested_at, ${userColumns}
         from follows f join users u on u.id = f.follower_id
        where f.status = 'PENDING' and f.followee_id in (${placeholders(ids.length)})
        order by f.created_at, f.id`,
      [...ids],
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
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select t.owner, f.confirmed_at as since, ${userColumns}
         from (values ${ids.map(() => '(?::bigint)').join(', ')}) as t(owner)
         cross join lateral (
           select * from follows f where f.${own} = t.owner and f.status = 'CONFIRMED'
            order by f.confirmed_at desc, f.id desc limit ? offset ?
         ) f
         join users u on u.id = f.${other}`,
      [...ids, size + 1, offset],
    );
    const byOwner = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) byOwner.set(String(row.owner), [...(byOwner.get(String(row.owner)) ?? []), row]);
    return new Map(
      ids.map((id) => {
        const list = byOwner.get(id) ?? [];
        const edges = list.slice(0, size).map((row, i) => ({ cursor: offsets.encode(offset + i), node: userFromRow(row), since: new Date(row.since as string) }));
        return [id, { edges, pageInfo: pageInfo(edges, list.length > size, offset > 0) }];
      }),
    );
  }

  private async counts(column: 'followee_id' | 'follower_id', ids: readonly string[]): Promise<number[]> {
    const rows = await this.em.execute<{ id: string; n: number }[]>(
      `select ${column} as id, count(*)::int as n from follows where status = 'CONFIRMED' and ${column} in (${placeholders(ids.length)}) group by ${column}`,
      [...ids],
    );
    const byId = new Map(rows.map((r) => [String(r.id), r.n]));
    return ids.map((id) => byId.get(id) ?? 0);
  }

}
