import type { EventBus } from '../events/events.ts';
import { CheckConstraintViolationException, NotNullConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { GraphQLError } from 'graphql';
import { appError, badInput, ErrorCode, type FieldErrors } from '../../errors.ts';
import type { ProfileDefinition } from '../../profiles/model.ts';
import { checkValue } from '../../profiles/parse.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { constraintField, insertRows, upsertRow } from '../../profiles/store.ts';
import type { SessionService } from '../sessions/session.service.ts';
import type { CoreKey, CoreKeys } from './core-keys.ts';

/** `{ <profile>: { <field>: value } }` as given in `ProfilesInput`. */
export type ProfilesInput = Record<string, Record<string, unknown> | null | undefined>;

/**
 * What {@link ProfileWriter.validate} found, keyed by input path: `readonly`, fields the caller
 * may not write; `invalid`, unknown profiles or fields and refused values. Either may be absent.
 */
export interface InputProblems {
  readonly?: FieldErrors;
  invalid?: FieldErrors;
}

/**
 * The one error of a refused profile input, the same on every write path (`signup`,
 * `updateProfiles`, `setData`): `FORBIDDEN` with `extensions.fields` naming each readonly field
 * written (who may write a field is an authorization matter, decided before its value is
 * looked at), otherwise `BAD_USER_INPUT` with the invalid fields. `extra` (identifier and
 * password problems of a signup) joins the `BAD_USER_INPUT` fields.
 */
export function inputRefusal(problems: InputProblems | undefined, extra: FieldErrors = {}): GraphQLError | undefined {
  if (problems?.readonly) return appError(ErrorCode.FORBIDDEN, 'Read-only fields may be written by staff only.', { fields: problems.readonly });
  const invalid = { ...extra, ...problems?.invalid };
  return Object.keys(invalid).length ? badInput(invalid) : undefined;
}

/** Message of a readonly field written by a caller who may not (`fields` of the `FORBIDDEN` error). */
export const READ_ONLY_MESSAGE = 'This field is read-only.';

/**
 * The one writer of profile rows. It checks values against the installed profiles and turns
 * constraint violations into `BAD_USER_INPUT` naming the field (found by constraint name),
 * never the constraint. It decides nothing about who may write: callers (ProfileService for
 * the API, the auth flows, administration, the CLI) have authorized the write already.
 * Writing `false` to the field holding the core key `isActive` ends every session of that
 * user in the same transaction, whichever path wrote it (`setUserFlags`, `updateProfiles`,
 * `setData`, imports). Every {@link write} is a `profile.changed` event (profile, qualified keys
 * written; never a value) in the same transaction; the bulk {@link writeMany} and the
 * `lastLogin` stamp ({@link recordLogin}, reported by `auth.login`) are not.
 */
export class ProfileWriter {
  constructor(
    readonly registry: ProfileRegistry,
    private readonly coreKeys: CoreKeys,
    private readonly sessions: SessionService,
    private readonly events?: EventBus,
  ) {}

  /**
   * Checks `input` against the installed profiles: readonly fields (writable only `asStaff`),
   * and each other value's type and rules. Returns the problems keyed
   * `<prefix><profile>.<field>` ({@link InputProblems}; turn them into the API's error with
   * {@link inputRefusal}), or `undefined` when there are none.
   */
  validate(input: ProfilesInput, options: { asStaff: boolean; prefix: string }): InputProblems | undefined {
    const errors: FieldErrors = {};
    const readonly: FieldErrors = {};
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
        else if (field.readonly && !options.asStaff) readonly[key] = READ_ONLY_MESSAGE;
        else {
          const problem = checkValue(field, value);
          if (problem) errors[key] = problem[0]!.toUpperCase() + problem.slice(1);
        }
      }
    }
    const problems: InputProblems = {
      ...(Object.keys(readonly).length ? { readonly } : {}),
      ...(Object.keys(errors).length ? { invalid: errors } : {}),
    };
    return problems.readonly || problems.invalid ? problems : undefined;
  }

  /** String values of `input`, for the password-similarity check. */
  personalValues(input: ProfilesInput): string[] {
    return Object.values(input).flatMap((values) => Object.values(values ?? {}).filter((v): v is string => typeof v === 'string'));
  }

  /**
   * Inside the signup transaction: inserts the row of every auto-created profile (with the
   * given values or defaults) and of every other profile given in `input`; the `dateJoined`
   * stamp of those rows is set to `now`. Errors: `BAD_USER_INPUT` naming the field.
   */
  async createForSignup(tx: EntityManager, userId: string, input: ProfilesInput, now: Date): Promise<void> {
    const stamps = this.coreKeys.stampTargets('dateJoined');
    for (const profile of this.registry.profiles) {
      const given = input[profile.name];
      if (!profile.autoCreate && !given) continue;
      const values: Record<string, unknown> = { ...given };
      for (const s of stamps) if (s.profile === profile) values[s.field.name] = now;
      await this.write(tx, profile, userId, values, (field) => `input.profiles.${profile.name}.${field}`);
    }
  }

  /** Stamps `lastLogin` in every profile defining it. One statement per such profile; none without one. */
  async recordLogin(em: EntityManager, userId: string, now: Date): Promise<void> {
    for (const { profile, field } of this.coreKeys.stampTargets('lastLogin')) await upsertRow(em, profile, userId, { [field.name]: now });
  }

  /**
   * Writes core keys of a user to the fields holding them (`{ isActive: false }`,
   * `{ email, emailConfirmedAt }`). Errors: `BAD_USER_INPUT` under `<prefix><key>` when no
   * installed profile holds a key, or a value is refused.
   */
  async writeCoreKeys(em: EntityManager, userId: string, values: Partial<Record<CoreKey, unknown>>, prefix = ''): Promise<void> {
    const byProfile = new Map<ProfileDefinition, Record<string, unknown>>();
    for (const [key, value] of Object.entries(values) as [CoreKey, unknown][]) {
      const holder = this.coreKeys.holder(key);
      if (!holder) throw badInput({ [`${prefix}${key}`]: `No installed profile holds "${key}".` });
      byProfile.set(holder.profile, { ...byProfile.get(holder.profile), [holder.field.name]: value });
    }
    for (const [profile, row] of byProfile) await this.write(em, profile, userId, row, (field) => `${prefix}${profile.name}.${field}`);
  }

  /**
   * Bulk write of many users' rows of one profile in one statement (demo data, imports):
   * values are written as given (callers have checked them). `nothing` keeps existing rows,
   * `update` overwrites their given fields. Returns the number of rows written. Users
   * deactivated by the write lose their sessions (one more statement, only when there are any).
   */
  async writeMany(
    em: EntityManager,
    profile: ProfileDefinition,
    rows: readonly { userId: string; values: Record<string, unknown> }[],
    onConflict: 'nothing' | 'update',
  ): Promise<number> {
    const written = await insertRows(em, profile, rows, onConflict);
    await this.sessions.revokeAllOf(
      em,
      rows.filter((row) => this.deactivates(profile, row.values)).map((row) => row.userId),
    );
    return written;
  }

  /** Whether writing `values` to `profile` sets the field holding `isActive` to false. */
  private deactivates(profile: ProfileDefinition, values: Record<string, unknown>): boolean {
    const holder = this.coreKeys.holder('isActive');
    return holder?.profile.name === profile.name && values[holder.field.name] === false;
  }

  /**
   * Inserts or updates one row with `values` (other fields kept). Errors: `BAD_USER_INPUT`
   * for a unique, not-null or check violation, under the input path `errorKey(fieldName)`
   * gives (`input.profiles.mail.email`, or `value` for `setData`).
   */
  async write(
    em: EntityManager,
    profile: ProfileDefinition,
    userId: string,
    values: Record<string, unknown>,
    errorKey: (fieldName: string) => string,
  ): Promise<void> {
    try {
      await upsertRow(em, profile, userId, values);
    } catch (error) {
      throw constraintError(error, profile, errorKey) ?? error;
    }
    if (this.deactivates(profile, values)) await this.sessions.revokeAll(em, userId);
    const keys = Object.keys(values).map((field) => `${profile.name}.${field}`);
    if (this.events && keys.length > 0) {
      await this.events.emit(em, { type: 'profile.changed', actorId: null, subjectId: userId, data: { profile: profile.name, keys } });
    }
  }
}

/** Maps a constraint violation on a profile table to `BAD_USER_INPUT` naming the field, never the constraint. */
function constraintError(error: unknown, profile: ProfileDefinition, errorKey: (fieldName: string) => string) {
  const key = errorKey(constraintField(profile, error)?.name ?? '?');
  if (error instanceof UniqueConstraintViolationException) return badInput({ [key]: 'This value is already used by another user.' });
  if (error instanceof NotNullConstraintViolationException) return badInput({ [key]: 'A value is required when the profile is created.' });
  if (error instanceof CheckConstraintViolationException) return badInput({ [key]: 'This value is not allowed.' });
  return undefined;
}
