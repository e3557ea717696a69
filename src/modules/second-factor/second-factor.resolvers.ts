import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import { canSeePrivate } from '../permissions/access.ts';
import type { SecondFactorService } from './second-factor.service.ts';

/** Resolvers of TOTP enrolment and recovery codes, `User.secondFactor` and `Session.assuranceLevel` (`verifySecondFactor` is the auth module's). */
export function secondFactorResolvers(services: { secondFactor: SecondFactorService }): Resolvers {
  const { secondFactor } = services;
  return {
    User: {
      secondFactor: async (user, _args, ctx) => ((await canSeePrivate(ctx, user.id)) ? secondFactor.status(ctx.em, user.id) : null),
    },
    Session: {
      assuranceLevel: (session) => (session.assuranceLevel === 'aal2' ? 'AAL2' : 'AAL1'),
    },
    Mutation: {
      startTotpEnrollment: (_root, { currentPassword }, ctx) => secondFactor.startTotpEnrollment(ctx, currentPassword),
      confirmTotp: (_root, { code }, ctx) => secondFactor.confirmTotp(ctx, code),
      disableTotp: (_root, { password, code }, ctx) => secondFactor.disableTotp(ctx, password, code),
      regenerateRecoveryCodes: (_root, { password, code }, ctx) => secondFactor.regenerateRecoveryCodes(ctx, password, code),
    },
  };
}
