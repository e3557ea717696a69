import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * `users`: an identifier and a password hash, nothing else (SPEC §2).
 *
 * - `identifier` is stored as entered; `identifierKey` is its comparison form
 *   (see `identifierKey()` in identifier.ts) and carries the unique index, so uniqueness
 *   is case-insensitive after NFKC normalisation and enforced by PostgreSQL itself.
 * - `password` is an argon2id PHC string, or a foreign hash awaiting upgrade, or a string
 *   starting with `!` (an unusable password).
 * - `id` is a bigint, handled as a decimal string end to end (GraphQL `ID`).
 */
/** The unique constraint on `users.identifier_key`: violating it means the identifier is taken. */
export const IDENTIFIER_KEY_UNIQUE = 'users_identifier_key_unique';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    identifier: p.text(),
    identifierKey: p.text().unique(IDENTIFIER_KEY_UNIQUE).hidden(),
    password: p.text().hidden(),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
  },
});

/**
 * A user as services and resolvers pass it around: either a MikroORM-managed `User` entity
 * or a plain object from {@link userFromRow}. Hot read paths use plain rows: no identity
 * map registration or hydration per user.
 */
export type UserEntity = Pick<InferEntity<typeof User>, 'id' | 'identifier' | 'identifierKey' | 'password' | 'createdAt'>;

/** Columns to select for {@link userFromRow}, with `alias` as the users table alias. */
export const userColumns = (alias: string) => `${alias}.id, ${alias}.identifier, ${alias}.identifier_key, ${alias}.password, ${alias}.created_at`;

/** A plain user from a raw `users` row (snake_case columns; bigint id and timestamps as text). */
export function userFromRow(row: Record<string, unknown>): UserEntity {
  return {
    id: String(row.id),
    identifier: row.identifier as string,
    identifierKey: row.identifier_key as string,
    password: row.password as string,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at as string),
  };
}
