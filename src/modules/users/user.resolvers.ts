import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import { badInput } from '../../errors.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { isUnusablePassword } from '../auth/password-hasher.ts';
import { profilesRead, wantsTotalCount } from './lookahead.ts';
import type { UserService } from './user.service.ts';

/** Resolvers of `me`, `user`, the `users` connection and the core `User` fields. */
export function userResolvers(registry: ProfileRegistry, users: UserService): Resolvers {
  return {
    Query: {
      me: (_root, _args, ctx) => ctx.viewer?.user ?? null,
      user: async (_root, args, ctx, info) => {
        const byId = args.id != null;
        const byIdentifier = args.identifier != null;
        if (byId === byIdentifier) {
          throw badInput({ id: 'Give exactly one of id and identifier.', identifier: 'Give exactly one of id and identifier.' });
        }
        return byId
          ? users.findById(ctx.em, args.id!, { profiles: profilesRead(registry, info), loaders: ctx.loaders.profiles })
          : users.findByIdentifier(ctx.em, args.identifier!);
      },
      users: (_root, args, ctx, info) =>
        users.page(ctx, args, wantsTotalCount(info), {
          profiles: profilesRead(registry, info, ['UserConnection.edges', 'UserEdge.node']),
          loaders: ctx.loaders.profiles,
        }),
    },
    User: {
      id: (user) => user.id,
      hasUsablePassword: (user) => !isUnusablePassword(user.password),
    },
  };
}
