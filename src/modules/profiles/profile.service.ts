import type { EntityManager } from '@mikro-orm/postgresql';
import { appError, badInput, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import type { ProfileDefinition } from '../../profiles/model.ts';
import { checkValue } from '../../profiles/parse.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { EmailConfirmationService } from '../auth/email-confirmation.service.ts';
import type { Reauthentication } from '../auth/reauthentication.ts';
import { requireStaffPerm, requireSuperuser, viewerIsStaff } from '../permissions/access.ts';
import type { UserEntity } from '../users/user.entity.ts';
import type { UserService } from '../users/user.service.ts';
import { privilegeKeys, type CoreKeys } from './core-keys.ts';
import { inputRefusal, READ_ONLY_MESSAGE, type ProfileWriter, type ProfilesInput } from './profile.writer.ts';

/** A confirmation mail to start once the write has committed. */
interface PendingConfirmation {
  address: string;
  change: boolean;
}

/**
 * The profile mutations of the API (`updateProfiles`, `setData`): who may write what, then
 * the write through {@link ProfileWriter}. Owners write their own profiles; staff write
 * readonly fields; another user's profiles need `auth.change_user` (a superuser's, a
 * superuser), and a staff change of their reset address is told to the old address;
 * privilege flags need `auth.change_user` (and `isSuperuser` a superuser); an owner's change
 * of a confirmed email address waits for its confirmation.
 */
export class ProfileService {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly writer: ProfileWriter,
    private readonly users: UserService,
    private readonly emailConfirmation: EmailConfirmationService,
    private readonly coreKeys: CoreKeys,
    private readonly reauthentication: Reauthentication,
  ) {}

  /**
   * `updateProfiles`: writes every profile in `input` for `userId` (default: the viewer) in
   * one transaction. Errors: `UNAUTHENTICATED`, `FORBIDDEN` (another user's profiles without `auth.change_user`;
   * staff; a readonly field without staff, `extensions.fields` naming `input.<profile>.<field>`),
   * `NOT_FOUND`, `BAD_USER_INPUT`.
   */
  async update(scope: RequestScope, input: ProfilesInput, userId: string | null | undefined, currentPassword?: string | null): Promise<UserEntity> {
    const { target, asStaff, forOther } = await this.authorizeWrite(scope, userId);
    const refusal = inputRefusal(this.writer.validate(input, { asStaff, prefix: 'input.' }));
    if (refusal) throw refusal;
    await this.guardPrivileges(
      scope,
      Object.values(input).flatMap((values) => Object.keys(values ?? {})),
    );
    const givenValue = (profile: string, field: string) => input[profile]?.[field];
    if (!forOther) await this.guardResetAddress(scope, givenValue, currentPassword);
    const notice = forOther ? await this.staffAddressChange(scope, target, givenValue) : undefined;
    const confirmations: PendingConfirmation[] = [];
    await scope.em.transactional(async (tx) => {
      for (const [name, given] of Object.entries(input)) {
        if (!given) continue;
        const profile = this.registry.get(name)!;
        const values = await this.holdEmailChange(tx, profile, target.id, given, forOther, confirmations, 'input.');
        await this.writer.write(tx, profile, target.id, values, (field) => `input.${profile.name}.${field}`);
      }
    });
    for (const c of confirmations) this.emailConfirmation.start(target, c.address, c.change);
    if (notice) this.emailConfirmation.noticeAddressChanged(notice.to, target.identifier, notice.newAddress);
    scope.loaders.profiles.clear(target.id);
    return target;
  }

  /**
   * `setData`: writes one data-bag key. An unqualified key several profiles define is always
   * `PROFILE_KEY_AMBIGUOUS`. Readonly fields need staff (`FORBIDDEN`, `extensions.fields`
   * naming `key`, as `updateProfiles` names the field's input path). One statement that
   * touches only this column, so concurrent writes of other keys are kept.
   */
  async setData(scope: RequestScope, key: string, value: unknown, userId: string | null | undefined, currentPassword?: string | null): Promise<UserEntity> {
    const resolved = this.registry.resolveStrict(key);
    const { target, asStaff, forOther } = await this.authorizeWrite(scope, userId);
    if (resolved.field.readonly && !asStaff)
      throw appError(ErrorCode.FORBIDDEN, `"${resolved.qualifiedKey}" is read-only.`, { fields: { key: READ_ONLY_MESSAGE } });
    const problem = checkValue(resolved.field, value);
    if (problem) throw badInput({ value: problem[0]!.toUpperCase() + problem.slice(1) });
    await this.guardPrivileges(scope, [resolved.field.name]);
    const givenValue = (profile: string, field: string) => (profile === resolved.profile.name && field === resolved.field.name ? value : undefined);
    if (!forOther) await this.guardResetAddress(scope, givenValue, currentPassword);
    const notice = forOther ? await this.staffAddressChange(scope, target, givenValue) : undefined;
    const confirmations: PendingConfirmation[] = [];
    // One transaction: the held-back address, the write and what the writer does with it
    // (a privilege flag ending the target's sessions) commit or roll back together.
    await scope.em.transactional(async (tx) => {
      const values = await this.holdEmailChange(tx, resolved.profile, target.id, { [resolved.field.name]: value }, forOther, confirmations, '');
      await this.writer.write(tx, resolved.profile, target.id, values, () => 'value');
    });
    for (const c of confirmations) this.emailConfirmation.start(target, c.address, c.change);
    if (notice) this.emailConfirmation.noticeAddressChanged(notice.to, target.identifier, notice.newAddress);
    scope.loaders.profiles.clear(target.id);
    return target;
  }

  /**
   * The privilege flags (`isActive`, `isStaff`, `isSuperuser`) are written like
   * `setUserFlags`: staff with `auth.change_user`, and `isSuperuser` only by a superuser, so
   * readonly-field access alone cannot escalate privileges. `fieldNames`: the profile fields
   * a write gives (every write path of profile values calls this: `updateProfiles`, `setData`,
   * staff's `createUser`). Errors: `UNAUTHENTICATED`, `FORBIDDEN`.
   */
  async guardPrivileges(scope: RequestScope, fieldNames: readonly string[]): Promise<void> {
    const flags = fieldNames.filter((n) => privilegeKeys.has(n));
    if (!flags.length) return;
    await requireStaffPerm(scope, 'auth.change_user');
    if (flags.includes('isSuperuser')) await requireSuperuser(scope, 'change isSuperuser');
  }

  /**
   * An owner changing the address password resets are mailed to (the field holding the core
   * key `email`) proves it is them: the current password or a fresh login. Otherwise whoever
   * holds a session could point the resets at themselves and take the account.
   */
  private async guardResetAddress(
    scope: RequestScope,
    given: (profile: string, field: string) => unknown,
    currentPassword: string | null | undefined,
  ): Promise<void> {
    const holder = this.coreKeys.holder('email');
    if (!holder) return;
    const next = given(holder.profile.name, holder.field.name);
    if (next === undefined) return;
    const viewer = requireViewer(scope);
    if ((await this.coreKeys.read(scope.em, viewer.user.id, 'email')) === next) return;
    await this.reauthentication.require(scope, currentPassword, 'the address password resets are mailed to');
  }

  /**
   * Who the write is for. Without `userId`, or with the viewer's own id in any spelling
   * (`parseId` makes it canonical), the viewer. Another user's profiles need staff status
   * and the permission `auth.change_user` (SPEC §8), and a superuser's profiles a superuser.
   * Errors: `UNAUTHENTICATED`, `BAD_USER_INPUT` (a malformed `userId`), `FORBIDDEN`, `NOT_FOUND`.
   */
  private async authorizeWrite(scope: RequestScope, userId: string | null | undefined): Promise<{ target: UserEntity; asStaff: boolean; forOther: boolean }> {
    const viewer = requireViewer(scope);
    const asStaff = await viewerIsStaff(scope);
    const id = userId == null ? viewer.user.id : parseId(userId, 'userId');
    if (id === viewer.user.id) return { target: viewer.user, asStaff, forOther: false };
    if (!asStaff) throw appError(ErrorCode.FORBIDDEN, "Only staff may change other users' profiles.");
    await requireStaffPerm(scope, 'auth.change_user');
    const target = await this.users.findById(scope.em, id);
    if (!target) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
    if ((await scope.loaders.permissions.flags(target.id)).superuser) await requireSuperuser(scope, "change a superuser's profiles");
    return { target, asStaff, forOther: true };
  }

  /**
   * When staff write another user's reset address (the field holding the core key `email`),
   * the address it replaces is told (`emailChanged`), as after an owner's confirmed change:
   * the notice to mail once the write has committed, or undefined when the address stays.
   */
  private async staffAddressChange(
    scope: RequestScope,
    target: UserEntity,
    given: (profile: string, field: string) => unknown,
  ): Promise<{ to: string; newAddress: string } | undefined> {
    const holder = this.coreKeys.holder('email');
    if (!holder) return undefined;
    const next = given(holder.profile.name, holder.field.name);
    if (next === undefined) return undefined;
    const previous = await this.coreKeys.read(scope.em, target.id, 'email');
    if (typeof previous !== 'string' || !previous || previous === next) return undefined;
    return { to: previous, newAddress: typeof next === 'string' ? next : '(none)' };
  }

  /**
   * An owner changing their confirmed-address field goes through email confirmation: a first
   * address is stored unconfirmed, a changed one is held back until confirmed. Staff writes
   * for other users are stored as given. Collects the confirmations to start after commit.
   */
  private async holdEmailChange(
    em: EntityManager,
    profile: ProfileDefinition,
    userId: string,
    values: Record<string, unknown>,
    forOther: boolean,
    confirmations: PendingConfirmation[],
    prefix: string,
  ): Promise<Record<string, unknown>> {
    if (!this.emailConfirmation.enabled || forOther) return values;
    try {
      const held = await this.emailConfirmation.intercept(em, profile, userId, values);
      if (held.pending) confirmations.push({ address: held.pending, change: true });
      if (held.initial) confirmations.push({ address: held.initial, change: false });
      return held.values;
    } catch (error) {
      // Re-key the field error to the input path the caller used.
      const fields = (error as { extensions?: { fields?: Record<string, string> } }).extensions?.fields;
      if (fields && prefix) throw badInput(Object.fromEntries(Object.entries(fields).map(([k, v]) => [`${prefix}${k}`, v])));
      if (fields) throw badInput({ value: Object.values(fields)[0]! });
      throw error;
    }
  }
}
