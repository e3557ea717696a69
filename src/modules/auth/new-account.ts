import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { GraphQLError } from 'graphql';
import type { Config } from '../../config.ts';
import { appError, ErrorCode, violatedConstraint } from '../../errors.ts';
import { inputRefusal, type ProfileWriter, type ProfilesInput } from '../profiles/profile.writer.ts';
import { checkIdentifier, identifierKey } from '../users/identifier.ts';
import { IDENTIFIER_KEY_UNIQUE, User, type UserEntity } from '../users/user.entity.ts';
import { checkPassword } from './password-policy.ts';

/** A new account as `signup` and staff's `createUser` take it; `password` absent or null: none given. */
export interface NewAccountInput {
  identifier: string;
  password?: string | null;
  profiles?: ProfilesInput | null;
}

/**
 * Every problem of a new account's input, reported together, under the input paths of
 * `SignupInput` and `CreateUserInput`: the identifier (core rules, then every profile's
 * rules), the password (when given) against the policy with the identifier and the profile
 * values as personal values, and the profile values (readonly fields writable only `asStaff`).
 * Returns the error {@link inputRefusal} makes of them — `FORBIDDEN` for readonly fields
 * (`input.profiles.<profile>.<field>`), else `BAD_USER_INPUT` (fields `input.identifier`,
 * `input.password`, `input.profiles.<profile>.<field>`) — or `undefined` when there is none.
 */
export async function newAccountRefusal(
  config: Pick<Config, 'accounts' | 'passwords'>,
  writer: ProfileWriter,
  input: NewAccountInput,
  options: { asStaff: boolean },
): Promise<GraphQLError | undefined> {
  const profiles = input.profiles ?? {};
  const identifierError =
    checkIdentifier(input.identifier, config.accounts.identifierMaxLength, 'input.identifier') ??
    (await writer.registry.checkIdentifier(input.identifier, 'input.identifier'));
  const passwordError =
    input.password == null ? undefined : checkPassword(input.password, config.passwords, [input.identifier, ...writer.personalValues(profiles)]);
  return inputRefusal(writer.validate(profiles, { asStaff: options.asStaff, prefix: 'input.profiles.' }), {
    ...identifierError,
    ...(passwordError ? { 'input.password': passwordError } : {}),
  });
}

/**
 * Inserts a checked account in one transaction: the `users` row (`password`: a hash or an
 * unusable marker, as stored), the row of every auto-created profile and of every profile in
 * `profiles` (`dateJoined` stamped `createdAt`), then whatever `within` adds in the same
 * transaction (a session, an audit event). Returns what `within` returns. Errors:
 * `IDENTIFIER_TAKEN` (field `input.identifier`; settled by the unique index, so concurrent
 * creations of one identifier in any case or normalisation variant fail cleanly),
 * `BAD_USER_INPUT` naming a profile field whose constraint refused its value.
 */
export async function insertAccount<T>(
  em: EntityManager,
  writer: ProfileWriter,
  account: { identifier: string; password: string; profiles: ProfilesInput; createdAt: Date },
  within: (tx: EntityManager, user: UserEntity) => Promise<T>,
): Promise<T> {
  try {
    return await em.transactional(async (tx) => {
      const user = tx.create(User, {
        identifier: account.identifier,
        identifierKey: identifierKey(account.identifier),
        password: account.password,
        createdAt: account.createdAt,
      });
      await tx.flush();
      await writer.createForSignup(tx, user.id, account.profiles, user.createdAt);
      return within(tx, user);
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException && violatedConstraint(error) === IDENTIFIER_KEY_UNIQUE) {
      throw appError(ErrorCode.IDENTIFIER_TAKEN, 'This identifier is already taken.', {
        fields: { 'input.identifier': 'This identifier is already taken.' },
      });
    }
    throw error;
  }
}
