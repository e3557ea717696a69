import { ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appError, badInput, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { EventBus, EventPayloads } from '../events/events.ts';
import type { CoreKeys } from '../profiles/core-keys.ts';
import type { FollowStatus } from './follow.types.ts';

const viewerId = (scope: RequestScope): string => requireViewer(scope).user.id;

/**
 * The follow graph (SPEC §6). Every operation is one conditional statement, so concurrent
 * calls settle in PostgreSQL: the unique (follower, followee) pair makes `follow`
 * idempotent, `confirmFollow` only moves a row that is still `PENDING`, and a delete racing a
 * confirmation leaves either no row or a confirmed one. Counts are counts of confirmed rows.
 *
 * Visibility: follower and following lists and counts are public; pending requests are seen
 * only by the followee (and by the follower as `viewerFollowStatus: PENDING`).
 */
export class FollowService {
  constructor(
    private readonly coreKeys: CoreKeys,
    private readonly everyoneRequiresConfirmation: boolean,
    private readonly events: EventBus,
  ) {}

  private changed(ctx: RequestScope, action: EventPayloads['follow.changed']['action'], followerId: string, followeeId: string) {
    const actorId = viewerId(ctx);
    return this.events.emit(ctx.em, {
      type: 'follow.changed',
      actorId,
      subjectId: actorId === followerId ? followeeId : followerId,
      data: { action, followerId, followeeId },
    });
  }

  /** Follows `followeeId` as the viewer; returns the resulting status. */
  async follow(ctx: RequestScope, followeeId: string): Promise<FollowStatus> {
    const followerId = viewerId(ctx);
    parseId(followeeId, 'userId');
    if (followeeId === followerId) throw badInput({ userId: 'You cannot follow yourself.' });
    const needsConfirmation = this.everyoneRequiresConfirmation || (await this.coreKeys.read(ctx.em, followeeId, 'followRequiresConfirmation'));
    const status = needsConfirmation ? 'PENDING' : 'CONFIRMED';
    try {
      const inserted = await ctx.em.execute<{ status: FollowStatus }[]>(
        `insert into follows (follower_id, followee_id, status, created_at, confirmed_at)
         values (?, ?, ?, now(), ${status === 'CONFIRMED' ? 'now()' : 'null'})
         on conflict (follower_id, followee_id) do nothing returning status`,
        [followerId, followeeId, status],
      );
      if (inserted[0]) {
        await this.changed(ctx, inserted[0].status === 'CONFIRMED' ? 'followed' : 'requested', followerId, followeeId);
        return inserted[0].status;
      }
    } catch (error) {
      if (error instanceof ForeignKeyConstraintViolationException) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
      throw error;
    }
    return this.status(ctx.em, followerId, followeeId);
  }

  /** Ends the viewer's follow of `followeeId`, confirmed or pending. */
  async unfollow(ctx: RequestScope, followeeId: string): Promise<boolean> {
    if (await this.delete(ctx.em, viewerId(ctx), parseId(followeeId, 'userId'), null)) {
      await this.changed(ctx, 'unfollowed', viewerId(ctx), followeeId);
    }
    return true;
  }

  /** Confirms a pending request to the viewer. Errors: `NOT_FOUND` when there is no follow row. */
  async confirm(ctx: RequestScope, followerId: string): Promise<boolean> {
    const followeeId = viewerId(ctx);
    parseId(followerId, 'followerId');
    const moved = await ctx.em.execute<{ affectedRows: number }>(
      `update follows set status = 'CONFIRMED', confirmed_at = now()
        where follower_id = ? and followee_id = ? and status = 'PENDING'`,
      [followerId, followeeId],
      'run',
    );
    if (moved.affectedRows > 0) {
      await this.changed(ctx, 'confirmed', followerId, followeeId);
      return true;
    }
    if ((await this.status(ctx.em, followerId, followeeId)) === 'CONFIRMED') return true;
    throw appError(ErrorCode.NOT_FOUND, 'There is no follow request from this user.');
  }

  /** Deletes a pending request to the viewer; a confirmed follow stays. */
  async reject(ctx: RequestScope, followerId: string): Promise<boolean> {
    if (await this.delete(ctx.em, parseId(followerId, 'followerId'), viewerId(ctx), 'PENDING')) {
      await this.changed(ctx, 'rejected', followerId, viewerId(ctx));
    }
    return true;
  }

  /** Removes a follower of the viewer (confirmed or pending). */
  async removeFollower(ctx: RequestScope, followerId: string): Promise<boolean> {
    if (await this.delete(ctx.em, parseId(followerId, 'followerId'), viewerId(ctx), null)) {
      await this.changed(ctx, 'removed', followerId, viewerId(ctx));
    }
    return true;
  }

  /**
   * Pending requests to `userId`, or null unless the viewer is that user: requests are
   * private to the followee. (Follower and following lists and counts are public.)
   */
  requestsFor(ctx: RequestScope, userId: string) {
    return ctx.viewer?.user.id === userId ? ctx.loaders.follows.requests.load(userId) : null;
  }

  private async delete(em: EntityManager, followerId: string, followeeId: string, status: FollowStatus | null): Promise<boolean> {
    const result = await em.execute<{ affectedRows: number }>(
      `delete from follows where follower_id = ? and followee_id = ?${status ? ' and status = ?' : ''}`,
      status ? [followerId, followeeId, status] : [followerId, followeeId],
      'run',
    );
    return result.affectedRows > 0;
  }

  private async status(em: EntityManager, followerId: string, followeeId: string): Promise<FollowStatus> {
    const rows = await em.execute<{ status: FollowStatus }[]>('select status from follows where follower_id = ? and followee_id = ?', [followerId, followeeId]);
    return rows[0]?.status ?? 'NONE';
  }
}
