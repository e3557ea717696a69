import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import type { DeviceSessionsService } from './device-sessions.service.ts';

/** Resolvers of the device list: `User.sessions`, `revokeSession`, `logoutOthers`, `revokeUserSessions`. */
export function sessionResolvers(services: { deviceSessions: DeviceSessionsService }): Resolvers {
  const { deviceSessions } = services;
  return {
    User: {
      sessions: (user, _args, ctx) => deviceSessions.sessionsOf(ctx, user.id),
    },
    Session: {
      current: (session, _args, ctx) => ctx.viewer?.id === session.id,
    },
    Mutation: {
      revokeSession: (_root, { id }, ctx) => deviceSessions.revoke(ctx, id),
      logoutOthers: (_root, _args, ctx) => deviceSessions.logoutOthers(ctx),
      revokeUserSessions: (_root, { userId }, ctx) => deviceSessions.revokeUserSessions(ctx, userId),
    },
  };
}
