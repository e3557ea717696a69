import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from '../users/user.entity.ts';

/**
 * `device_tokens`: one row per client that logged in to an account (OWASP's "device cookie",
 * https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies).
 * The token is 256 CSPRNG bits handed to the client once by `login`/`signup`; only its SHA-256
 * (32 bytes, `token_hash`) is stored. A token counts while `now < expires_at`;
 * `last_used_at` is the last login that presented it.
 */
export const DeviceToken = defineEntity({
  name: 'DeviceToken',
  tableName: 'device_tokens',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    user: p.manyToOne(User).deleteRule('cascade').index('device_tokens_user_id_index'),
    tokenHash: p.type('blob').columnType('bytea').unique('device_tokens_token_hash_unique'),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    lastUsedAt: p.datetime(),
    expiresAt: p.datetime(),
  },
});

export type DeviceTokenEntity = InferEntity<typeof DeviceToken>;
