import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import type { UserReadPlanner } from '../users/lookahead.ts';
import type { FollowService } from './follow.service.ts';

const NODE = ['FollowConnection.edges', 'FollowEdge.node'];

/**
 * Resolvers of the follow graph: lists, counts and statuses through the request's loaders, and
 * the follow mutations. A list reads its nodes' profiles and columns in its own statement
 * (`planner`: look-ahead).
 */
export function followResolvers(follows: FollowService, planner: UserReadPlanner): Resolvers {
  return {
    User: {
      followers: (user, args, ctx, info) => ctx.loaders.follows.list('followers', user.id, args, { plan: planner.plan(info, NODE), loaders: ctx.loaders }),
      following: (user, args, ctx, info) => ctx.loaders.follows.list('following', user.id, args, { plan: planner.plan(info, NODE), loaders: ctx.loaders }),
      followersCount: (user, _args, ctx) => ctx.loaders.follows.followersCount.load(user.id),
      followingCount: (user, _args, ctx) => ctx.loaders.follows.followingCount.load(user.id),
      followRequests: (user, _args, ctx) => follows.requestsFor(ctx, user.id),
      viewerFollowStatus: (user, _args, ctx) => ctx.loaders.follows.viewerStatus.load(user.id),
    },
    Mutation: {
      follow: (_root, { userId }, ctx) => follows.follow(ctx, userId),
      unfollow: (_root, { userId }, ctx) => follows.unfollow(ctx, userId),
      confirmFollow: (_root, { followerId }, ctx) => follows.confirm(ctx, followerId),
      rejectFollow: (_root, { followerId }, ctx) => follows.reject(ctx, followerId),
      removeFollower: (_root, { followerId }, ctx) => follows.removeFollower(ctx, followerId),
    },
  };
}
