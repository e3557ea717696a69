import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import type { AdministrationService } from './administration.service.ts';

/** Resolvers of staff's account administration and of Django's permission questions about a user. */
export function administrationResolvers(services: { administration: AdministrationService }): Resolvers {
  const { administration } = services;
  return {
    User: {
      hasPerms: (user, { perms }, ctx) => administration.hasPerms(ctx, user.id, perms),
      groupPermissions: (user, _args, ctx) => administration.groupPermissions(ctx, user.id),
      hasModulePerms: (user, { appLabel }, ctx) => administration.hasModulePerms(ctx, user.id, appLabel),
    },
    Mutation: {
      // `input.profiles` exists when profiles are installed (derived SDL), so it is absent from the generated type.
      createUser: (_root, { input }, ctx) => administration.createUser(ctx, input),
      setPassword: (_root, args, ctx) => administration.setPassword(ctx, args.userId, args.password),
      setUnusablePassword: (_root, args, ctx) => administration.setUnusablePassword(ctx, args.userId),
    },
  };
}
