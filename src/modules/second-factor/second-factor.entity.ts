import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../users/user.entity.ts';

/**
 * `totp_credentials`: a user's TOTP (RFC 6238) authenticator. `secret` is the shared secret
 * encrypted with `SECRETS_KEY` (AES-256-GCM, `v1.<iv>.<tag>.<ciphertext>` in base64url).
 * Unconfirmed (`confirmed_at` null) until the user proves the authenticator with a code.
 * `last_used_step` is the latest 30-second step a code was accepted for: a code is never
 * accepted twice, nor one of an earlier step.
 */
export const TotpCredential = defineEntity({
  name: 'TotpCredential',
  tableName: 'totp_credentials',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    user: p.manyToOne(User).deleteRule('cascade').unique('totp_credentials_user_id_unique'),
    secret: p.text(),
    confirmedAt: p.datetime().nullable(),
    lastUsedStep: p.bigint('string').nullable(),
    createdAt: p.datetime(),
  },
});

/** `recovery_codes`: single-use codes to pass the second step without the authenticator (SHA-256 of the code; `used_at` once spent). */
export const RecoveryCode = defineEntity({
  name: 'RecoveryCode',
  tableName: 'recovery_codes',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    user: p.manyToOne(User).deleteRule('cascade').index('recovery_codes_user_id_index'),
    codeHash: p.type('blob').columnType('bytea'),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});

/**
 * `login_challenges`: the state between a correct password and the second factor. Only the
 * token's SHA-256 is stored; a challenge is bound to the client address of the first step,
 * lives `SECOND_FACTOR_CHALLENGE_SECONDS`, and is spent by the one `verifySecondFactor` that
 * succeeds.
 */
export const LoginChallenge = defineEntity({
  name: 'LoginChallenge',
  tableName: 'login_challenges',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    user: p.manyToOne(User).deleteRule('cascade').index('login_challenges_user_id_index'),
    tokenHash: p.type('blob').columnType('bytea').unique('login_challenges_token_hash_unique'),
    clientAddress: p.text(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
