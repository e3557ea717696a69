import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import { appError, ErrorCode } from '../../errors.ts';

export const authResolvers: Resolvers = {
  Mutation: {
    signup: (_root, { input }, ctx) => ctx.services.auth.signup(ctx.em, input),
    login: (_root, args, ctx) => ctx.services.auth.login(ctx.em, args.identifier, args.password, ctx.clientAddress),
    logout: (_root, _args, ctx) => ctx.services.auth.logout(ctx.em, ctx.viewer),
    logoutAll: (_root, _args, ctx) => ctx.services.auth.logoutAll(ctx.em, ctx.viewer),
    changePassword: (_root, args, ctx) =>
      ctx.services.auth.changePassword(ctx.em, ctx.viewer, args.currentPassword, args.newPassword, ctx.clientAddress),
    confirmEmail: (_root, { token }, ctx) => ctx.services.emailConfirmation.confirm(ctx.em, token, ctx.clientAddress),
    resendEmailConfirmation: (_root, _args, ctx) => {
      if (!ctx.viewer) throw appError(ErrorCode.UNAUTHENTICATED, 'You must be signed in.');
      return ctx.services.emailConfirmation.resend(ctx.em, ctx.viewer.user);
    },
    requestPasswordReset: (_root, { identifier }, ctx) => ctx.services.passwordReset.request(identifier, ctx.clientAddress),
    resetPassword: (_root, args, ctx) => ctx.services.passwordReset.reset(ctx.em, args.token, args.newPassword, ctx.clientAddress),
  },
};
