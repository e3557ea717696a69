import type { Resolvers } from '../../__generated__/resolvers-types.ts';

export const authResolvers: Resolvers = {
  Mutation: {
    signup: (_root, { input }, ctx) => ctx.services.auth.signup(ctx.em, input),
    login: (_root, args, ctx) => ctx.services.auth.login(ctx.em, args.identifier, args.password, ctx.clientAddress),
    logout: (_root, _args, ctx) => ctx.services.auth.logout(ctx.em, ctx.viewer),
    logoutAll: (_root, _args, ctx) => ctx.services.auth.logoutAll(ctx.em, ctx.viewer),
    changePassword: (_root, args, ctx) =>
      ctx.services.auth.changePassword(ctx.em, ctx.viewer, args.currentPassword, args.newPassword, ctx.clientAddress),
  },
};
