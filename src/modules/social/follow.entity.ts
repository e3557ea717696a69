import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from '../users/user.entity.ts';

/**
 * `follows`: one row per (follower, followee) pair, `PENDING` until the followee confirms a
 * follow request, or `CONFIRMED`. The unique pair and the no-self-follow check are enforced
 * by PostgreSQL, so concurrent follows settle in the database, not in application code.
 */
export const Follow = defineEntity({
  name: 'Follow',
  tableName: 'follows',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    follower: p.manyToOne(User).deleteRule('cascade'),
    followee: p.manyToOne(User).deleteRule('cascade'),
    status: p.enum(['PENDING', 'CONFIRMED'] as const),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    confirmedAt: p.datetime().nullable(),
  },
  uniques: [{ name: 'follows_pair_unique', properties: ['follower', 'followee'] }],
  // The follow lists seek on (confirmed_at, id) within one user's rows of one status
  // (keyset pagination, newest first: the index is read backwards).
  indexes: [
    { name: 'follows_followee_list_index', properties: ['followee', 'status', 'confirmedAt', 'id'] },
    { name: 'follows_follower_list_index', properties: ['follower', 'status', 'confirmedAt', 'id'] },
  ],
  checks: [{ name: 'follows_no_self_follow', expression: 'follower_id <> followee_id' }],
});

export type FollowEntity = InferEntity<typeof Follow>;
