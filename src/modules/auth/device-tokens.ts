import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../clock.ts';
import { sql } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { hashToken } from '../sessions/session.service.ts';

/** Bytes of entropy in a device token: 256 bits from the OS CSPRNG (43 base64url characters). */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Device tokens kept per account, most recently used first; older ones are dropped on issue. */
const MAX_TOKENS_PER_USER = 50;

/** A device token that proved an earlier login: its row id and the account it belongs to. */
export interface KnownDevice {
  id: string;
  userId: string;
  /** The account's identifier in comparison form (`identifierKey`), to match a login's identifier. */
  identifierKey: string;
}

/**
 * Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies",
 * https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies):
 * a successful login hands the client a random 256-bit token, stored as its SHA-256 in
 * `device_tokens`. A later login that presents it is a known client of that account and
 * gets its own failure allowance instead of the one shared by unknown clients
 * (`LoginThrottle`). Tokens live `DEVICE_TOKEN_TTL_SECONDS` from their last use.
 */
export class DeviceTokenService {
  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * The live token `token` names, with its account; `null` for a missing, malformed,
   * unknown or expired token (never an error: a bad token only makes an unknown client).
   * One indexed read.
   */
  async find(em: EntityManager, token: string | null | undefined): Promise<KnownDevice | null> {
    if (!token || !TOKEN_SHAPE.test(token)) return null;
    const [row] = await execute<{ id: string; user_id: string; identifier_key: string }[]>(
      em,
      sql`select d.id, d.user_id, u.identifier_key from device_tokens d join users u on u.id = d.user_id
           where d.token_hash = ${hashToken(token)} and d.expires_at > ${this.clock.now()}`,
    );
    return row ? { id: String(row.id), userId: String(row.user_id), identifierKey: row.identifier_key } : null;
  }

  /**
   * Starts a device token for `userId` and returns it (shown once). Expired tokens of the
   * user, and all but its newest {@link MAX_TOKENS_PER_USER}, are deleted in the same call.
   */
  async issue(em: EntityManager, userId: string): Promise<string> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const now = this.clock.now();
    await execute(
      em,
      sql`insert into device_tokens (user_id, token_hash, created_at, last_used_at, expires_at)
          values (${userId}, ${hashToken(token)}, ${now}, ${now}, ${new Date(now.getTime() + this.ttlMs)})`,
      'run',
    );
    await execute(
      em,
      sql`delete from device_tokens where user_id = ${userId} and (expires_at <= ${now} or id not in
            (select id from device_tokens where user_id = ${userId} order by last_used_at desc, id desc limit ${MAX_TOKENS_PER_USER}))`,
      'run',
    );
    return token;
  }

  /** Records a login with the device token `deviceId`: `last_used_at` now, lifetime extended from now. */
  async touch(em: EntityManager, deviceId: string): Promise<void> {
    const now = this.clock.now();
    await execute(em, sql`update device_tokens set last_used_at = ${now}, expires_at = ${new Date(now.getTime() + this.ttlMs)} where id = ${deviceId}`, 'run');
  }
}
