import {
  CheckConstraintViolationException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../context.ts';
import { appError, badInput, ErrorCode, type FieldErrors } from '../errors.ts';
import type { UserEntity } from '../modules/users/user.entity.ts';
import type { EmailConfirmationService } from '../modules/auth/email-confirmation.service.ts';
import { viewerIsStaff } from './access.ts';
import type { ProfileDefinition } from './model.ts';
import { checkValue } from './parse.ts';
import type { ProfileRegistry } from './registry.ts';
import { selectValue, upsertRow } from './store.ts';

/** `{ <profile>: { <field>: value } }` as given in `ProfilesInput`. */
export type ProfilesInput = Record<string, Record<string, unknown> | null | undefined>;

/**
 * Profile writes (signup, `updateProfiles`, `setData`) and the data-bag reads server flows
 * need (login's `isActive`). Authorization lives here: owners write their own profiles,
 * staff write anyone's and readonly fields.
 */
export class ProfileService {
  constructor(
    readonly registry: ProfileRegistry,
    private readonly emailConfirmation?: EmailConfirmationService,
  ) {}

  /**
   * Checks `input` against the installed profiles: each value's type and rules, readonly
   * fields (only `asStaff`), and, when `creating`, required fields of profiles not
   * auto-created. Returns per-field errors keyed `<prefix><profile>.<field>`, or `undefined`.
   */
  validate(input: ProfilesInput, options: { asStaff: boolean; prefix: string }): FieldErrors | undefined {
    const errors: FieldErrors = {};
    for (const [name, values] of Object.entries(input)) {
      const profile = this.registry.get(name);
      if (!profile) {
        errors[`${options.prefix}${name}`] = `No installed profile is named "${name}".`;
        continue;
      }
      if (!values) continue;
      for (const [fieldName, value] of Object.entries(values)) {
        const field = profile.fields.find((f) => f.name === fieldName);
        const key = `${options.prefix}${name}.${fieldName}`;
        if (!field) errors[key] = 'Unknown field.';
        else if (field.readonly && !options.asStaff) errors[key] = 'This field is read-only.';
        else {
          const problem = checkValue(field, value);
          if (problem) errors[key] = problem[0]!.toUpperCase() + problem.slice(1);
        }
      }
    }
    return Object.keys(errors).length ? errors : undefined;
  }

  /** String values of `input`, for the password-similarity check. */
  personalValues(input: ProfilesInput): string[] {
    return Object.values(input).flatMap((values) => Object.values(values ?? {}).filter((v): v is string => typeof v === 'string'));
  }

  /**
   * Inside the signup transaction: inserts the row of every auto-created profile (with the
   * given values or defaults) and of every other profile given in `input`; a `dateJoined`
   * date-time field of those rows is set to `now`. Constraint violations become
   * `BAD_USER_INPUT` naming the field.
   */
  async createForSignup(tx: EntityManager, userId: string, input: ProfilesInput, now = new Date()): Promise<void> {
    for (const profile of this.registry.profiles) {
      const given = input[profile.name];
      if (!profile.autoCreate && !given) continue;
      const values = { ...given, ...serverStamp(profile, 'dateJoined', now) };
      await this.write(tx, profile, userId, values, 'input.profiles.');
    }
  }

  /**
   * Records a successful login in every installed profile with a `lastLogin` date-time field
   * (Django's `last_login`). One statement per such profile; none when no profile has one.
   */
  async recordLogin(em: EntityManager, userId: string, now: Date): Promise<void> {
    for (const profile of this.registry.profiles) {
      const stamp = serverStamp(profile, 'lastLogin', now);
      if (Object.keys(stamp).length) await upsertRow(em, profile, userId, stamp);
    }
  }

  /**
   * `updateProfiles`: writes every profile in `input` for `userId` (default: the viewer) in
   * one transaction. Errors: `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`.
   */
  async update(ctx: Context, input: ProfilesInput, userId: string | null | undefined): Promise<UserEntity> {
    const { target, asStaff } = await this.authorizeWrite(ctx, userId);
    const errors = this.validate(input, { asStaff, prefix: 'input.' });
    if (errors) throw badInput(errors);
    await this.guardPrivileges(ctx, Object.values(input).flatMap((values) => Object.keys(values ?? {})));
    const confirmations: { address: string; change: boolean }[] = [];
    await ctx.em.transactional(async (tx) => {
      for (const [name, given] of Object.entries(input)) {
        if (!given) continue;
        const profile = this.registry.get(name)!;
        const values = await this.holdEmailChange(tx, profile, target.id, given, asStaff && target.id !== ctx.viewer!.user.id, confirmations, 'input.');
        await this.write(tx, profile, target.id, values, 'input.');
      }
    });
    for (const c of confirmations) this.emailConfirmation!.start(target, c.address, c.change);
    ctx.loaders.clear(target.id);
    return target;
  }

  /**
   * `setData`: writes one data-bag key. An unqualified key several profiles define is always
   * `PROFILE_KEY_AMBIGUOUS`. Readonly fields need staff (`FORBIDDEN`). One statement that
   * touches only this column, so concurrent writes of other keys are kept.
   */
  async setData(ctx: Context, key: string, value: unknown, userId: string | null | undefined): Promise<UserEntity> {
    const resolved = this.registry.resolveStrict(key);
    const { target, asStaff } = await this.authorizeWrite(ctx, userId);
    if (resolved.field.readonly && !asStaff) throw appError(ErrorCode.FORBIDDEN, `"${resolved.qualifiedKey}" is read-only.`);
    const problem = checkValue(resolved.field, value);
    if (problem) throw badInput({ value: problem[0]!.toUpperCase() + problem.slice(1) });
    await this.guardPrivileges(ctx, [resolved.field.name]);
    const confirmations: { address: string; change: boolean }[] = [];
    const byStaffForOther = asStaff && target.id !== ctx.viewer!.user.id;
    const values = await this.holdEmailChange(ctx.em, resolved.profile, target.id, { [resolved.field.name]: value }, byStaffForOther, confirmations, '');
    await this.write(ctx.em, resolved.profile, target.id, values, 'value:');
    for (const c of confirmations) this.emailConfirmation!.start(target, c.address, c.change);
    ctx.loaders.clear(target.id);
    return target;
  }

  /**
   * A data-bag value for server flows, read straight from its column: `absent` when no
   * installed profile defines `key` (or the row does not exist and the field has no default).
   */
  async readValue(em: EntityManager, userId: string, key: string, absent: unknown): Promise<unknown> {
    let resolved;
    try {
      resolved = this.registry.resolveForRead(key);
    } catch {
      return absent;
    }
    const value = await selectValue(em, resolved.profile, resolved.field, userId);
    if (value === undefined) return resolved.field.defaultValue ?? absent;
    return value ?? absent;
  }

  /**
   * The account flags behind permissions (`isActive`, `isStaff`, `isSuperuser`) are written
   * like `setUserFlags`: staff with `auth.change_user`, and `isSuperuser` only by a superuser,
   * so readonly-field access alone cannot escalate privileges.
   */
  private async guardPrivileges(ctx: Context, fieldNames: readonly string[]): Promise<void> {
    const flags = fieldNames.filter((n) => PRIVILEGE_FLAGS.has(n));
    if (!flags.length) return;
    await ctx.services.permissions.requireStaffPerm(ctx, 'auth.change_user');
    if (flags.includes('isSuperuser') && !(await ctx.permissions.flags(ctx.viewer!.user.id)).superuser) {
      throw appError(ErrorCode.FORBIDDEN, 'Only a superuser may change isSuperuser.');
    }
  }

  private async authorizeWrite(ctx: Context, userId: string | null | undefined): Promise<{ target: UserEntity; asStaff: boolean }> {
    if (!ctx.viewer) throw appError(ErrorCode.UNAUTHENTICATED, 'You must be signed in.');
    const asStaff = await viewerIsStaff(ctx);
    if (userId == null || userId === ctx.viewer.user.id) return { target: ctx.viewer.user, asStaff };
    if (!asStaff) throw appError(ErrorCode.FORBIDDEN, "Only staff may change other users' profiles.");
    const target = await ctx.services.users.findById(ctx.em, userId);
    if (!target) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
    return { target, asStaff };
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
    byStaffForOther: boolean,
    confirmations: { address: string; change: boolean }[],
    prefix: string,
  ): Promise<Record<string, unknown>> {
    if (!this.emailConfirmation?.enabled || byStaffForOther) return values;
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

  private async write(em: EntityManager, profile: ProfileDefinition, userId: string, values: Record<string, unknown>, prefix: string): Promise<void> {
    try {
      await upsertRow(em, profile, userId, values);
    } catch (error) {
      throw constraintError(error, profile, prefix) ?? error;
    }
  }
}

const PRIVILEGE_FLAGS = new Set(['isActive', 'isStaff', 'isSuperuser']);

function serverStamp(profile: ProfileDefinition, fieldName: string, now: Date): Record<string, Date> {
  const field = profile.fields.find((f) => f.name === fieldName && f.kind === 'datetime');
  return field ? { [field.name]: now } : {};
}

/** Maps a constraint violation on a profile table to `BAD_USER_INPUT` naming the field, never the constraint. */
function constraintError(error: unknown, profile: ProfileDefinition, prefix: string) {
  const message = error instanceof Error ? error.message : '';
  const field = profile.fields.find((f) => message.includes(`"${f.column}"`) || message.includes(`_${f.column}_`));
  const key = prefix === 'value:' ? 'value' : `${prefix}${profile.name}.${field?.name ?? '?'}`;
  if (error instanceof UniqueConstraintViolationException) return badInput({ [key]: 'This value is already used by another user.' });
  if (error instanceof NotNullConstraintViolationException) return badInput({ [key]: 'A value is required when the profile is created.' });
  if (error instanceof CheckConstraintViolationException) return badInput({ [key]: 'This value is not allowed.' });
  return undefined;
}
