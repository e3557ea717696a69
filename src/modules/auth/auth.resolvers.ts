import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { AuthService } from './auth.service.ts';
import type { EmailConfirmationService } from './email-confirmation.service.ts';
import type { PasswordResetService } from './password-reset.service.ts';

/** Records that this request issued a session to `result.user` (see `RequestScope.sessionIssuedTo`). */
function issuedTo<T extends { user: { id: string } }>(ctx: RequestScope, result: T): T {
  ctx.sessionIssuedTo.add(result.user.id);
  return result;
}

/** Resolvers of the account flows: signup, login, logout, password change and reset, email confirmation. */
export function authResolvers(services: { auth: AuthService; emailConfirmation: EmailConfirmationService; passwordReset: PasswordResetService }): Resolvers {
  const { auth, emailConfirmation, passwordReset } = services;
  return {
    Mutation: {
      // The payload's user is read as the new session's owner would read it (private fields too).
      signup: async (_root, { input }, ctx) => issuedTo(ctx, await auth.signup(ctx, input)),
      login: async (_root, args, ctx) => issuedTo(ctx, await auth.login(ctx, args.identifier, args.password, args.deviceToken)),
      logout: (_root, _args, ctx) => auth.logout(ctx),
      logoutAll: (_root, _args, ctx) => auth.logoutAll(ctx),
      changePassword: (_root, args, ctx) => auth.changePassword(ctx, args.currentPassword, args.newPassword),
      confirmEmail: (_root, { token }, ctx) => emailConfirmation.confirm(ctx.em, token, ctx.clientAddress),
      resendEmailConfirmation: (_root, _args, ctx) => emailConfirmation.resend(ctx.em, requireViewer(ctx).user),
      requestPasswordReset: (_root, { identifier }, ctx) => passwordReset.request(identifier, ctx.clientAddress),
      resetPassword: (_root, args, ctx) => passwordReset.reset(ctx.em, args.token, args.newPassword, ctx.clientAddress),
    },
  };
}
