import type { PageInfo } from '../../pagination.ts';
import type { UserEntity } from './user.entity.ts';

/** A Relay page of users, as `UserConnection` expects. `totalCount` is computed only when asked for. */
export interface UserPage {
  edges: { cursor: string; node: UserEntity }[];
  pageInfo: PageInfo;
  totalCount: number | null;
}
