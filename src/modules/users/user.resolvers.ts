import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import { badInput } from '../../errors.ts';
import { isUnusablePassword } from '../auth/password-hasher.ts';
import { profilesRead } from '../../profiles/lookahead.ts';

export const userResolvers: Resolvers = {
  Query: {
    me: (_root, _args, ctx) => ctx.viewer?.user ?? null,
    user: async (_root, args, ctx, info) => {
      const byId = args.id != null;
      const byIdentifier = args.identifier != null;
      if (byId === byIdentifier) {
        throw badInput({ id: 'Give exactly one of id and identifier.', identifier: 'Give exactly one of id and identifier.' });
      }
      return byId
        ? ctx.services.users.findById(ctx.em, args.id!, { profiles: profilesRead(ctx.services.profiles.registry, info), loaders: ctx.loaders })
        : ctx.services.users.findByIdentifier(ctx.em, args.identifier!);
    },
  },
  User: {
    id: (user) => user.id,
    hasUsablePassword: (user) => !isUnusablePassword(user.password),
  },
};
