import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import { badInput } from '../../errors.ts';
import { isUnusablePassword } from '../auth/password-hasher.ts';
import { wantsTotalCount, type ReadPlan, type UserReadPlanner } from './lookahead.ts';
import type { UserService } from './user.service.ts';

/**
 * Resolvers of `me`, `user`, the `users` connection and the core `User` fields. Each reads
 * the profiles and look-ahead columns its selection uses in the users' own statement
 * (`planner`); `me`, whose user the session lookup already read, costs one statement for what
 * that lookup did not bring, and none when it brought everything.
 */
export function userResolvers(planner: UserReadPlanner, users: UserService): Resolvers {
  return {
    Query: {
      me: async (_root, _args, ctx, info) => {
        const viewer = ctx.viewer;
        if (!viewer) return null;
        const plan = planner.plan(info);
        const missing: ReadPlan = {
          profiles: plan.profiles.filter((p) => !ctx.loaders.profiles.isPrimed(p.name, viewer.user.id)),
          columns: plan.columns,
        };
        if (missing.profiles.length || missing.columns.length) await users.findById(ctx.em, viewer.user.id, { plan: missing, loaders: ctx.loaders });
        return viewer.user;
      },
      user: async (_root, args, ctx, info) => {
        const byId = args.id != null;
        const byIdentifier = args.identifier != null;
        if (byId === byIdentifier) {
          throw badInput({ id: 'Give exactly one of id and identifier.', identifier: 'Give exactly one of id and identifier.' });
        }
        const lookahead = { plan: planner.plan(info), loaders: ctx.loaders };
        return byId ? users.findById(ctx.em, args.id!, lookahead) : users.findByIdentifier(ctx.em, args.identifier!, lookahead);
      },
      users: (_root, args, ctx, info) =>
        users.page(ctx, args, wantsTotalCount(info), { plan: planner.plan(info, ['UserConnection.edges', 'UserEdge.node']), loaders: ctx.loaders }),
    },
    User: {
      id: (user) => user.id,
      hasUsablePassword: (user) => !isUnusablePassword(user.password),
    },
  };
}
