import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { AuthResult, AuthService, SecondStepRequired } from './auth.service.ts';
import type { EmailConfirmationService } from './email-confirmation.service.ts';
import type { PasswordResetService } from './password-reset.service.ts';

/**
 * The `AuthPayload` of a login step: a session (recording that this request issued one to its
 * user, see `RequestScope.sessionIssuedTo`) or a second-factor challenge (no user, no token).
 */
function payload(ctx: RequestScope, result: AuthResult | SecondStepRequired) {
  if ('secondFactorRequired' in result) return { ...result, token: null, expiresAt: null, user: null, deviceToken: null };
  ctx.sessionIssuedTo.add(result.user.id);
  return { ...result, secondFactorRequired: false, challenge: null, methods: null };
}

/** Resolvers of the account flows: signup, login, logout, password change and reset, email confirmation. */
export function authResolvers(services: { auth: AuthService; emailConfirmation: EmailConfirmationService; passwordReset: PasswordResetService }): Resolvers {
  const { auth, emailConfirmation, passwordReset } = services;
  return {
    Mutation: {
      // The payload's user is read as the new session's owner would read it (private fields too).
      signup: async (_root, { input }, ctx) => payload(ctx, await auth.signup(ctx, input)),
      login: async (_root, args, ctx) => payload(ctx, await auth.login(ctx, args.identifier, args.password, args.deviceToken)),
      verifySecondFactor: async (_root, args, ctx) => payload(ctx, await auth.verifySecondFactor(ctx, args.challenge, args.code, args.deviceToken)),
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
