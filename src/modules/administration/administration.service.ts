import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../config.ts';
import { appError, badInput, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import { insertAccount, newAccountRefusal, type NewAccountInput } from '../auth/new-account.ts';
import { makeUnusablePassword, type PasswordHasher } from '../auth/password-hasher.ts';
import { checkPassword } from '../auth/password-policy.ts';
import type { EventBus } from '../events/events.ts';
import { canSeePrivate, requireStaffPerm, requireSuperuser } from '../permissions/access.ts';
import type { PermissionRow } from '../permissions/permission.loaders.ts';
import type { ProfileService } from '../profiles/profile.service.ts';
import type { ProfileWriter } from '../profiles/profile.writer.ts';
import type { SessionService } from '../sessions/session.service.ts';
import type { TokenService } from '../tokens/token.service.ts';
import { User, type UserEntity } from '../users/user.entity.ts';
import type { UserService } from '../users/user.service.ts';

/**
 * Staff's administration of accounts, as Django's admin and `User` methods offer it:
 * `createUser` (`auth.add_user`), `setPassword` and `setUnusablePassword` (`auth.change_user`;
 * a superuser's password, a superuser), and Django's permission questions about a user
 * (`has_perms`, `get_group_permissions`, `has_module_perms`) on the request's batched
 * permission loaders. Each change is an audit event (`user.created`, `auth.password_set`).
 */
export class AdministrationService {
  constructor(
    private readonly config: Pick<Config, 'accounts' | 'passwords'>,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly hasher: PasswordHasher,
    private readonly writer: ProfileWriter,
    private readonly profiles: ProfileService,
    private readonly tokens: TokenService,
    private readonly events: EventBus,
  ) {}

  /**
   * Creates an account with the profiles given, in one transaction with its `user.created`
   * event; issues no session. Without a password the account's is unusable. Input is checked
   * as `signup` checks it, readonly profile fields allowed (the creator is staff); privilege
   * flags pass `ProfileService.guardPrivileges`. Errors: `UNAUTHENTICATED`, `FORBIDDEN` (no
   * `auth.add_user`; privilege flags without `auth.change_user`, `isSuperuser` without a
   * superuser), `BAD_USER_INPUT` (fields `input.identifier`, `input.password`,
   * `input.profiles.<profile>.<field>`), `IDENTIFIER_TAKEN`.
   */
  async createUser(scope: RequestScope, input: NewAccountInput): Promise<UserEntity> {
    await requireStaffPerm(scope, 'auth.add_user');
    const actor = requireViewer(scope).user;
    const profiles = input.profiles ?? {};
    const refusal = await newAccountRefusal(this.config, this.writer, input, { asStaff: true });
    if (refusal) throw refusal;
    await this.profiles.guardPrivileges(
      scope,
      Object.values(profiles).flatMap((values) => Object.keys(values ?? {})),
    );
    const password = input.password == null ? makeUnusablePassword() : await this.hasher.hash(input.password);
    const account = { identifier: input.identifier, password, profiles, createdAt: scope.clock.now() };
    return insertAccount(scope.em, this.writer, account, async (tx, user) => {
      await this.events.emit(tx, {
        type: 'user.created',
        actorId: actor.id,
        subjectId: user.id,
        clientAddress: scope.clientAddress,
        data: { identifier: input.identifier },
      });
      return user;
    });
  }

  /**
   * Django's `set_password` by staff: checks `password` against the policy (the target's
   * identifier as a personal value), hashes it (argon2id, outside the transaction), then in
   * one transaction stores it, ends every session and unused reset token of the user and
   * records `auth.password_set`. Errors: `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`,
   * `BAD_USER_INPUT` (fields `userId`, `password`).
   */
  async setPassword(scope: RequestScope, userId: string, password: string): Promise<boolean> {
    const target = await this.passwordTarget(scope, userId);
    const policyError = checkPassword(password, this.config.passwords, [target.identifier]);
    if (policyError) throw badInput({ password: policyError });
    await this.replacePassword(scope, target, await this.hasher.hash(password), true);
    return true;
  }

  /**
   * Django's `set_unusable_password` by staff: stores a fresh unusable marker (no password
   * logs in; `hasUsablePassword` false) and, in the same transaction, ends every session and
   * unused reset token of the user and records `auth.password_set`. Errors: `UNAUTHENTICATED`,
   * `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT` (field `userId`).
   */
  async setUnusablePassword(scope: RequestScope, userId: string): Promise<boolean> {
    const target = await this.passwordTarget(scope, userId);
    await this.replacePassword(scope, target, makeUnusablePassword(), false);
    return true;
  }

  /** Django's `has_perms`: every permission of `perms` held (an empty list is true). Null unless the viewer may see the user's permissions. */
  hasPerms(scope: RequestScope, userId: string, perms: readonly string[]): Promise<boolean | null> {
    return visible(scope, userId, async () => {
      const held = await Promise.all(perms.map((perm) => scope.loaders.permissions.hasPerm(userId, perm)));
      return held.every(Boolean);
    });
  }

  /**
   * Django's `get_group_permissions`: none when inactive, every permission for an active
   * superuser, else the permissions of the user's groups, sorted by key. Two batched
   * statements for any number of users (groups, then their permissions). Null unless the viewer
   * may see the user's permissions.
   */
  groupPermissions(scope: RequestScope, userId: string): Promise<PermissionRow[] | null> {
    return visible(scope, userId, async () => {
      const loaders = scope.loaders.permissions;
      const flags = await loaders.flags(userId);
      if (!flags.active) return [];
      if (flags.superuser) return loaders.allPermissions();
      const groups = await loaders.groups.load(userId);
      const byKey = new Map<string, PermissionRow>();
      for (const permissions of await loaders.groupPermissions.loadMany(groups.map((g) => g.id))) {
        if (permissions instanceof Error) throw permissions;
        for (const permission of permissions) byKey.set(permission.key, permission);
      }
      return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  /**
   * Django's `has_module_perms`: whether the user holds any permission `<appLabel>.…` (false
   * when inactive, true for an active superuser). Null unless the viewer may see the user's
   * permissions.
   */
  hasModulePerms(scope: RequestScope, userId: string, appLabel: string): Promise<boolean | null> {
    return visible(scope, userId, async () => {
      const flags = await scope.loaders.permissions.flags(userId);
      if (!flags.active) return false;
      if (flags.superuser) return true;
      const held = await scope.loaders.permissions.permissionsOf(userId);
      return held.some((key) => key.slice(0, key.indexOf('.')) === appLabel);
    });
  }

  /** The user whose password staff change: `auth.change_user`, and a superuser for a superuser. */
  private async passwordTarget(scope: RequestScope, userId: string): Promise<UserEntity> {
    await requireStaffPerm(scope, 'auth.change_user');
    const target = await this.users.findById(scope.em, parseId(userId, 'userId'));
    if (!target) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
    if ((await scope.loaders.permissions.flags(target.id)).superuser) await requireSuperuser(scope, "set a superuser's password");
    return target;
  }

  private async replacePassword(scope: RequestScope, target: UserEntity, stored: string, usable: boolean): Promise<void> {
    const actor = requireViewer(scope).user;
    await scope.em.transactional(async (tx: EntityManager) => {
      await tx.nativeUpdate(User, { id: target.id }, { password: stored });
      await this.sessions.revokeAll(tx, target.id);
      await this.tokens.revokeAll(tx, target.id, 'PASSWORD_RESET');
      await this.events.emit(tx, { type: 'auth.password_set', actorId: actor.id, subjectId: target.id, clientAddress: scope.clientAddress, data: { usable } });
    });
    scope.loaders.sessions.clear(target.id);
  }
}

/** A user's permissions are private data (as `User.permissions`): the user themself and staff read them, others get null. */
async function visible<T>(scope: RequestScope, userId: string, read: () => Promise<T>): Promise<T | null> {
  return (await canSeePrivate(scope, userId)) ? read() : null;
}
