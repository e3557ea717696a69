import type { PageInfo } from '../../pagination.ts';
import type { UserEntity } from '../users/user.entity.ts';

/** A viewer's relationship to a user, as `viewerFollowStatus` and the `followStatus` filter name it. */
export type FollowStatus = 'NONE' | 'PENDING' | 'CONFIRMED';

/** A page of a follow list (followers or following), as `FollowConnection` expects. */
export interface FollowPage {
  edges: { cursor: string; node: UserEntity; since: Date }[];
  pageInfo: PageInfo;
}
