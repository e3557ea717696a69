import type { Resolvers } from '../../__generated__/resolvers-types.ts';

export const followResolvers: Resolvers = {
  User: {
    followers: (user, args, ctx) => ctx.follows.list('followers', user.id, args),
    following: (user, args, ctx) => ctx.follows.list('following', user.id, args),
    followersCount: (user, _args, ctx) => ctx.follows.followersCount.load(user.id),
    followingCount: (user, _args, ctx) => ctx.follows.followingCount.load(user.id),
    followRequests: (user, _args, ctx) => ctx.services.follows.requestsFor(ctx, user.id),
    viewerFollowStatus: (user, _args, ctx) => ctx.follows.viewerStatus.load(user.id),
  },
  Mutation: {
    follow: (_root, { userId }, ctx) => ctx.services.follows.follow(ctx, userId),
    unfollow: (_root, { userId }, ctx) => ctx.services.follows.unfollow(ctx, userId),
    confirmFollow: (_root, { followerId }, ctx) => ctx.services.follows.confirm(ctx, followerId),
    rejectFollow: (_root, { followerId }, ctx) => ctx.services.follows.reject(ctx, followerId),
    removeFollower: (_root, { followerId }, ctx) => ctx.services.follows.removeFollower(ctx, followerId),
  },
};
