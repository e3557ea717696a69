import { createHash } from 'node:crypto';
import type { Connection } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { viaOrmConnection } from '../auth/login-throttle.ts';

/** Mails carrying a token, each with its own quota: reset mails per account, confirmation mails per address. */
export type QuotaMail = 'passwordReset' | 'confirmEmail';

/** Options of {@link MailQuota}. */
export interface MailQuotaOptions {
  /** Mails of one kind per key per window: 3. */
  maxPerWindow?: number;
  /** Length of the window in seconds: 3600 (one hour, fixed from the first mail counted). */
  windowSeconds?: number;
}

/** Default mails of one kind per key per window. */
export const MAIL_QUOTA_PER_HOUR = 3;

/**
 * Caps token mails so the service cannot be used to bomb a mailbox (issue 10, finding 5): at
 * most {@link MAIL_QUOTA_PER_HOUR} reset mails per account and as many confirmation mails per
 * address per hour. The caller still answers `true`; a refused mail is neither issued nor sent
 * (so the last mailed token keeps working) and is logged at warn as `{ template, userId }`,
 * never with a token or the address.
 *
 * State lives in `login_rate_limits` through rate-limiter-flexible's PostgreSQL limiter, one
 * atomic `INSERT … ON CONFLICT DO UPDATE … RETURNING` per check on the ORM's own pool (the
 * adapter of login-throttle.ts), so concurrent requests and several server instances cannot
 * exceed the quota. Keys: `mail-reset:<user id>` and `mail-confirm:<SHA-256 of the lower-cased
 * address>` (the table holds no address).
 */
export class MailQuota {
  private readonly limiters: Record<QuotaMail, RateLimiterPostgres>;

  constructor(
    connection: Connection,
    private readonly logger: Logger,
    options: MailQuotaOptions = {},
  ) {
    const common = {
      storeClient: viaOrmConnection(connection),
      storeType: 'pool',
      tableName: 'login_rate_limits',
      tableCreated: true,
      points: options.maxPerWindow ?? MAIL_QUOTA_PER_HOUR,
      duration: options.windowSeconds ?? 3600,
    };
    this.limiters = {
      passwordReset: new RateLimiterPostgres({ ...common, keyPrefix: 'mail-reset' }),
      confirmEmail: new RateLimiterPostgres({ ...common, keyPrefix: 'mail-confirm' }),
    };
  }

  /**
   * Counts one `passwordReset` mail to the account `userId`. Resolves true when it may be
   * sent, false (and logs) when the account had its quota this hour. Rejects only on a
   * database error.
   */
  allowReset(userId: string): Promise<boolean> {
    return this.allow('passwordReset', userId, userId);
  }

  /**
   * Counts one `confirmEmail` mail to `address` (for the account `userId`, which is logged).
   * Resolves true when it may be sent, false (and logs) when the address had its quota this
   * hour. Rejects only on a database error.
   */
  allowConfirmation(userId: string, address: string): Promise<boolean> {
    return this.allow('confirmEmail', createHash('sha256').update(address.trim().toLowerCase(), 'utf8').digest('hex'), userId);
  }

  private async allow(template: QuotaMail, key: string, userId: string): Promise<boolean> {
    try {
      await this.limiters[template].consume(key);
      return true;
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result;
      this.logger.warn({ template, userId, retryAfterSeconds: Math.ceil(result.msBeforeNext / 1000) }, 'mail quota reached: not sent');
      return false;
    }
  }
}
