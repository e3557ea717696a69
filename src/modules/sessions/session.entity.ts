import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from '../users/user.entity.ts';

/**
 * `sessions`: one row per bearer token. Only the SHA-256 of the token is stored
 * (32 bytes, `token_hash`), so a leaked table cannot be replayed. A session ends when its
 * row is deleted (logout, `revokeSession`), when `last_seen_at` is older than the idle timeout, or at
 * `expires_at` (absolute timeout).
 */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    user: p.manyToOne(User).deleteRule('cascade').index('sessions_user_id_index'),
    tokenHash: p.type('blob').columnType('bytea').unique('sessions_token_hash_unique'),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    lastSeenAt: p.datetime(),
    expiresAt: p.datetime(),
    /** The `User-Agent` header of the request that issued the session (at most 512 characters). */
    userAgent: p.text().nullable(),
    /** The client address of the request that issued the session (after TRUSTED_PROXIES). */
    clientAddress: p.text().nullable(),
    /** Authenticator assurance level (NIST SP 800-63B): `aal1` a password, `aal2` a password and a second factor. */
    assuranceLevel: p.text().default('aal1'),
  },
});

export type SessionEntity = InferEntity<typeof Session>;
