import { appError, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { EventBus } from '../events/events.ts';
import { requireStaffPerm, requireSuperuser, viewerIsStaff } from '../permissions/access.ts';
import type { UserService } from '../users/user.service.ts';
import type { SessionRow, SessionService } from './session.service.ts';

/**
 * A user's sessions as devices (SPEC §8): list them, end one, end all the others; staff holding
 * `auth.change_user` end every session of another user. Each change is an `auth.sessions_revoked`
 * audit event (how many ended, and which).
 */
export class DeviceSessionsService {
  constructor(
    private readonly sessions: SessionService,
    private readonly users: UserService,
    private readonly events: EventBus,
  ) {}

  /**
   * `userId`'s live sessions, most recently seen first (at most `SESSIONS_LISTED_MAX`), for the
   * user and staff; null for anyone else. Batched per request (one statement for a page of users).
   */
  async sessionsOf(scope: RequestScope, userId: string): Promise<SessionRow[] | null> {
    // The signed-in user or staff only (not the payload of a signup or login: that request
    // is not signed in as its new user).
    if (scope.viewer?.user.id !== userId && !(await viewerIsStaff(scope))) return null;
    return scope.loaders.sessions.load(userId);
  }

  /**
   * Ends the viewer's session `id` (the current one included). Returns false when the viewer has
   * no such live session. Errors: `UNAUTHENTICATED`, `BAD_USER_INPUT` (field `id`, not an id).
   */
  async revoke(scope: RequestScope, id: string): Promise<boolean> {
    const { user } = requireViewer(scope);
    const ended = await this.sessions.revokeOf(scope.em, user.id, parseId(id, 'id'));
    if (ended) await this.emit(scope, user.id, 1, 'one');
    return ended;
  }

  /** Ends every session of the viewer but the current one. Returns how many ended. Errors: `UNAUTHENTICATED`. */
  async logoutOthers(scope: RequestScope): Promise<number> {
    const viewer = requireViewer(scope);
    if (viewer.id === null) throw appError(ErrorCode.BAD_USER_INPUT, 'This request has no session of its own (trusted-header sign-in): use logoutAll.');
    const ended = await this.sessions.revokeAll(scope.em, viewer.user.id, viewer.id);
    await this.emit(scope, viewer.user.id, ended, 'others');
    return ended;
  }

  /**
   * Ends every session of `userId` (staff with `auth.change_user`; a superuser's sessions need a
   * superuser). Returns how many ended. Errors: `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`,
   * `BAD_USER_INPUT` (field `userId`).
   */
  async revokeUserSessions(scope: RequestScope, userId: string): Promise<number> {
    await requireStaffPerm(scope, 'auth.change_user');
    const target = await this.users.findById(scope.em, parseId(userId, 'userId'));
    if (!target) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
    if ((await scope.loaders.permissions.flags(target.id)).superuser) await requireSuperuser(scope, "end a superuser's sessions");
    const ended = await this.sessions.revokeAll(scope.em, target.id);
    await this.emit(scope, target.id, ended, 'all');
    return ended;
  }

  private async emit(scope: RequestScope, subjectId: string, sessions: number, which: 'one' | 'others' | 'all'): Promise<void> {
    scope.loaders.sessions.clear(subjectId);
    await this.events.emit(scope.em, {
      type: 'auth.sessions_revoked',
      actorId: scope.viewer?.user.id ?? null,
      subjectId,
      clientAddress: scope.clientAddress,
      data: { sessions, which },
    });
  }
}
