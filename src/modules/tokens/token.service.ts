import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../clock.ts';
import { hashToken } from '../sessions/session.service.ts';
import type { TokenPurpose } from './token.entity.ts';

/** A token as mailed: shown once, stored only as its hash. */
export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** A valid token's owner and payload. */
export interface TokenGrant {
  id: string;
  userId: string;
  payload: Record<string, unknown> | null;
}

/**
 * Single-use, purpose-bound, expiring tokens (SPEC §6): 32 CSPRNG bytes (256 bits) in
 * base64url, stored as SHA-256. Issuing a token deletes the user's unused tokens of the same
 * purpose, so only the newest works; `consume` spends a token in one conditional update, so
 * of many concurrent uses exactly one succeeds.
 */
export class TokenService {
  constructor(private readonly clock: Clock) {}

  /** Issues a token for `userId` valid for `ttlMs`, replacing older ones of `purpose`. */
  async issue(em: EntityManager, userId: string, purpose: TokenPurpose, ttlMs: number, payload: Record<string, unknown> | null = null): Promise<IssuedToken> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + ttlMs);
    await this.revokeAll(em, userId, purpose);
    await em.execute(
      'insert into user_tokens (user_id, purpose, token_hash, payload, created_at, expires_at) values (?, ?, ?, ?::jsonb, ?, ?)',
      [userId, purpose, hashToken(token), payload ? JSON.stringify(payload) : null, now, expiresAt],
      'run',
    );
    return { token, expiresAt };
  }

  /** The grant of a valid (unused, unexpired) token of `purpose`, without spending it; null otherwise. */
  async peek(em: EntityManager, token: string, purpose: TokenPurpose): Promise<TokenGrant | null> {
    const rows = await em.execute<{ id: string; user_id: string; payload: Record<string, unknown> | null }[]>(
      'select id, user_id, payload from user_tokens where token_hash = ? and purpose = ? and used_at is null and expires_at > ?',
      [hashToken(token), purpose, this.clock.now()],
    );
    return rows[0] ? { id: String(rows[0].id), userId: String(rows[0].user_id), payload: rows[0].payload } : null;
  }

  /** Spends a valid token of `purpose`; null when it is unknown, used, expired or of another purpose. */
  async consume(em: EntityManager, token: string, purpose: TokenPurpose): Promise<TokenGrant | null> {
    const now = this.clock.now();
    const rows = await em.execute<{ id: string; user_id: string; payload: Record<string, unknown> | null }[]>(
      `update user_tokens set used_at = ? where token_hash = ? and purpose = ? and used_at is null and expires_at > ?
       returning id, user_id, payload`,
      [now, hashToken(token), purpose, now],
    );
    return rows[0] ? { id: String(rows[0].id), userId: String(rows[0].user_id), payload: rows[0].payload } : null;
  }

  /** Deletes every unused token of `purpose` of `userId` (e.g. reset tokens after a password change). */
  async revokeAll(em: EntityManager, userId: string, purpose: TokenPurpose): Promise<void> {
    await em.execute('delete from user_tokens where user_id = ? and purpose = ? and used_at is null', [userId, purpose], 'run');
  }
}
