import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from '../users/user.entity.ts';

/** What a one-time token may be used for; a token of one purpose never works for another. */
export const TOKEN_PURPOSES = ['EMAIL_CONFIRMATION', 'PASSWORD_RESET'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/**
 * `user_tokens`: single-use tokens mailed to users (email confirmation, password reset).
 * Only the SHA-256 of a token is stored. `payload` carries what the token vouches for (the
 * address being confirmed). A token is spent by setting `used_at` in one conditional update.
 */
export const UserToken = defineEntity({
  name: 'UserToken',
  tableName: 'user_tokens',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    user: p.manyToOne(User).deleteRule('cascade'),
    purpose: p.enum(TOKEN_PURPOSES),
    tokenHash: p.type('blob').columnType('bytea').unique('user_tokens_token_hash_unique'),
    payload: p.json<Record<string, unknown>>().nullable(),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
  indexes: [{ name: 'user_tokens_user_purpose_index', properties: ['user', 'purpose'] }],
});

export type UserTokenEntity = InferEntity<typeof UserToken>;
