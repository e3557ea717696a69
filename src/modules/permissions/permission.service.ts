import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appError, badInput, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { EventBus } from '../events/events.ts';
import type { ProfileWriter } from '../profiles/profile.writer.ts';
import type { UserEntity } from '../users/user.entity.ts';
import type { UserService } from '../users/user.service.ts';
import { requireStaffPerm, requireSuperuser } from './access.ts';
import type { GroupRow, PermissionRow } from './permission.loaders.ts';

const PERMISSION_KEY = /^([a-z][a-z0-9_]{0,99})\.([a-z][a-z0-9_]{0,99})$/;

/** Flags an administrator may set; each maps to the data-bag key of the same name. */
export interface UserFlagsInput {
  isActive?: boolean | null;
  isStaff?: boolean | null;
  isSuperuser?: boolean | null;
}

/**
 * Administration of groups, permissions and account flags. Every operation needs active
 * staff holding the operation's Django permission (see `requireStaffPerm` in access.ts); only
 * a superuser may grant or revoke `isSuperuser`. Each change emits a `permission.changed` event.
 */
export class PermissionService {
  constructor(
    private readonly users: UserService,
    private readonly writer: ProfileWriter,
    private readonly events: EventBus,
  ) {}

  /** Creates a permission `<app_label>.<codename>`. Errors: `BAD_USER_INPUT` (format, duplicate). */
  async createPermission(ctx: RequestScope, key: string, name: string): Promise<PermissionRow> {
    await requireStaffPerm(ctx, 'auth.add_permission');
    const match = PERMISSION_KEY.exec(key);
    if (!match) throw badInput({ key: 'Use "<app_label>.<codename>" in lower case, e.g. "blog.publish_post".' });
    try {
      const [row] = await ctx.em.execute<PermissionRow[]>(
        `insert into permissions (app_label, codename, name) values (?, ?, ?)
         returning id, app_label || '.' || codename as key, app_label as "appLabel", codename, name`,
        [match[1], match[2], name],
      );
      await this.changed(ctx, { action: 'permission.created', permission: key });
      return { ...row!, id: String(row!.id) };
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw badInput({ key: 'This permission exists already.' });
      throw error;
    }
  }

  /** Creates a group with the given permissions. Errors: `BAD_USER_INPUT`. */
  async createGroup(ctx: RequestScope, name: string, permissions: readonly string[]): Promise<GroupRow> {
    await requireStaffPerm(ctx, 'auth.add_group');
    const group = await ctx.em.transactional(async (tx) => {
      let row: { id: string; name: string } | undefined;
      try {
        [row] = await tx.execute<{ id: string; name: string }[]>('insert into groups (name) values (?) returning id, name', [name]);
      } catch (error) {
        if (error instanceof UniqueConstraintViolationException) throw badInput({ name: 'A group with this name exists already.' });
        throw error;
      }
      const group = { id: String(row!.id), name: row!.name };
      await this.replaceGroupPermissions(tx, group.id, permissions);
      return group;
    });
    await this.changed(ctx, { action: 'group.created', group: name, permissions });
    return group;
  }

  /** Replaces a group's permissions. Errors: `NOT_FOUND`, `BAD_USER_INPUT`. */
  async setGroupPermissions(ctx: RequestScope, groupId: string, permissions: readonly string[]): Promise<GroupRow> {
    await requireStaffPerm(ctx, 'auth.change_group');
    const group = await this.group(ctx.em, groupId);
    await ctx.em.transactional((tx) => this.replaceGroupPermissions(tx, group.id, permissions));
    ctx.loaders.permissions.groupPermissions.clear(group.id);
    await this.changed(ctx, { action: 'group.permissions', group: group.name, permissions });
    return group;
  }

  /** Deletes a group (members lose its permissions). Idempotent. */
  async deleteGroup(ctx: RequestScope, groupId: string): Promise<boolean> {
    await requireStaffPerm(ctx, 'auth.delete_group');
    await ctx.em.execute('delete from groups where id = ?', [parseId(groupId, 'groupId')], 'run');
    await this.changed(ctx, { action: 'group.deleted', groupId });
    return true;
  }

  /** Replaces a user's groups. Errors: `NOT_FOUND` (user or a group). */
  async setUserGroups(ctx: RequestScope, userId: string, groupIds: readonly string[]): Promise<UserEntity> {
    await requireStaffPerm(ctx, 'auth.change_user');
    const user = await this.user(ctx, userId);
    const groups = await Promise.all(groupIds.map((id) => this.group(ctx.em, id)));
    await ctx.em.transactional(async (tx) => {
      await tx.execute('delete from user_groups where user_id = ?', [user.id], 'run');
      for (const g of groups) await tx.execute('insert into user_groups (user_id, group_id) values (?, ?) on conflict do nothing', [user.id, g.id], 'run');
    });
    ctx.loaders.permissions.clear(user.id);
    await this.changed(ctx, { action: 'user.groups', userId: user.id, groups: groups.map((g) => g.name) });
    return user;
  }

  /** Replaces a user's direct permissions. Errors: `NOT_FOUND`, `BAD_USER_INPUT` (unknown permission). */
  async setUserPermissions(ctx: RequestScope, userId: string, permissions: readonly string[]): Promise<UserEntity> {
    await requireStaffPerm(ctx, 'auth.change_user');
    const user = await this.user(ctx, userId);
    await ctx.em.transactional(async (tx) => {
      const ids = await this.permissionIds(tx, permissions);
      await tx.execute('delete from user_permissions where user_id = ?', [user.id], 'run');
      for (const id of ids)
        await tx.execute('insert into user_permissions (user_id, permission_id) values (?, ?) on conflict do nothing', [user.id, id], 'run');
    });
    ctx.loaders.permissions.clear(user.id);
    await this.changed(ctx, { action: 'user.permissions', userId: user.id, permissions });
    return user;
  }

  /**
   * Sets `isActive`, `isStaff`, `isSuperuser` of a user (through the data bag). Errors:
   * `FORBIDDEN` (changing `isSuperuser` needs a superuser), `NOT_FOUND`, `BAD_USER_INPUT`
   * (no installed profile holds a flag).
   */
  async setUserFlags(ctx: RequestScope, userId: string, flags: UserFlagsInput): Promise<UserEntity> {
    await requireStaffPerm(ctx, 'auth.change_user');
    if (flags.isSuperuser != null) await requireSuperuser(ctx, 'change isSuperuser');
    const user = await this.user(ctx, userId);
    const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v != null)) as Record<'isActive' | 'isStaff' | 'isSuperuser', boolean>;
    await ctx.em.transactional((tx) => this.writer.writeCoreKeys(tx, user.id, given, 'flags.'));
    ctx.loaders.permissions.clear(user.id);
    await this.changed(ctx, { action: 'user.flags', userId: user.id, flags: { ...given } });
    return user;
  }

  private async replaceGroupPermissions(tx: EntityManager, groupId: string, permissions: readonly string[]): Promise<void> {
    const ids = await this.permissionIds(tx, permissions);
    await tx.execute('delete from group_permissions where group_id = ?', [groupId], 'run');
    for (const id of ids)
      await tx.execute('insert into group_permissions (group_id, permission_id) values (?, ?) on conflict do nothing', [groupId, id], 'run');
  }

  private async permissionIds(em: EntityManager, keys: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    const unknown: string[] = [];
    for (const key of new Set(keys)) {
      const match = PERMISSION_KEY.exec(key);
      const rows = match ? await em.execute<{ id: string }[]>('select id from permissions where app_label = ? and codename = ?', [match[1], match[2]]) : [];
      if (rows[0]) ids.push(String(rows[0].id));
      else unknown.push(key);
    }
    if (unknown.length) throw badInput({ permissions: `Unknown permission(s): ${unknown.join(', ')}.` });
    return ids;
  }

  private async group(em: EntityManager, groupId: string): Promise<GroupRow> {
    const rows = await em.execute<GroupRow[]>('select id, name from groups where id = ?', [parseId(groupId, 'groupId')]);
    if (!rows[0]) throw appError(ErrorCode.NOT_FOUND, 'No such group.', { groupId });
    return { id: String(rows[0].id), name: rows[0].name };
  }

  private async user(ctx: RequestScope, userId: string): Promise<UserEntity> {
    const user = await this.users.findById(ctx.em, parseId(userId, 'userId'));
    if (!user) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
    return user;
  }

  private async changed(ctx: RequestScope, data: Record<string, unknown>): Promise<void> {
    await this.events.emit(ctx.em, { type: 'permission.changed', actorId: requireViewer(ctx).user.id, subjectId: (data.userId as string) ?? null, data });
  }
}
