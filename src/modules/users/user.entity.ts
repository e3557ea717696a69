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
export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    identifier: p.text(),
    identifierKey: p.text().unique('users_identifier_key_unique').hidden(),
    password: p.text().hidden(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});

export type UserEntity = InferEntity<typeof User>;
