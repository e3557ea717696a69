import { createHash } from 'node:crypto';
import type { Connection } from '@mikro-orm/postgresql';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../config.ts';
import { appError, ErrorCode } from '../../errors.ts';

/**
 * Limits password guesses per account and per client address (SPEC §6), with state in the
 * `login_rate_limits` table so every server instance shares it (rate-limiter-flexible's
 * PostgreSQL limiter: one atomic `INSERT … ON CONFLICT DO UPDATE … RETURNING` per check).
 *
 * Every executed guess consumes a point from both counters *before* the password is checked,
 * so concurrent guesses cannot slip past the limit; a successful login clears the account's
 * counter and refunds the address's point.
 */
export class LoginThrottle {
  private readonly byAccount: RateLimiterPostgres;
  private readonly byAddress: RateLimiterPostgres;
  private readonly tokenGuesses: RateLimiterPostgres;

  constructor(connection: Connection, config: Config['loginThrottle']) {
    const common = {
      storeClient: viaOrmConnection(connection),
      storeType: 'pool',
      tableName: 'login_rate_limits',
      tableCreated: true,
      duration: config.windowSeconds,
    };
    this.byAccount = new RateLimiterPostgres({ ...common, keyPrefix: 'account', points: config.maxFailuresPerIdentifier });
    this.byAddress = new RateLimiterPostgres({ ...common, keyPrefix: 'address', points: config.maxFailuresPerAddress });
    this.tokenGuesses = new RateLimiterPostgres({ ...common, keyPrefix: 'token', points: config.maxTokenFailuresPerAddress });
  }

  /**
   * Counts one use of a mailed token (confirmation, reset) or a reset request from `address`.
   * Throws `RATE_LIMITED` over the limit, so tokens cannot be guessed at scale.
   */
  async consumeTokenGuess(address: string): Promise<void> {
    try {
      await this.tokenGuesses.consume(address);
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result;
      throw appError(ErrorCode.RATE_LIMITED, 'Too many attempts. Try again later.', {
        retryAfterSeconds: Math.ceil(result.msBeforeNext / 1000),
      });
    }
  }

  /** After a valid token: refund its guess. */
  async tokenSucceeded(address: string): Promise<void> {
    await this.tokenGuesses.reward(address, 1);
  }

  /**
   * Counts one guess for `accountKey` (any stable key of the account, e.g. the identifier's
   * comparison form; it is hashed) from `address`. Throws `RATE_LIMITED` with
   * `extensions.retryAfterSeconds` when either counter is over its limit.
   */
  async consume(accountKey: string, address: string): Promise<void> {
    const results = await Promise.allSettled([this.byAccount.consume(digest(accountKey)), this.byAddress.consume(address)]);
    let waitMs = 0;
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      waitMs = Math.max(waitMs, result.reason.msBeforeNext);
    }
    if (waitMs > 0) {
      throw appError(ErrorCode.RATE_LIMITED, 'Too many failed attempts. Try again later.', {
        retryAfterSeconds: Math.ceil(waitMs / 1000),
      });
    }
  }

  /** After a correct password: forget the account's failures and refund the address's guess. */
  async succeeded(accountKey: string, address: string): Promise<void> {
    await Promise.all([this.byAccount.delete(digest(accountKey)), this.byAddress.reward(address, 1)]);
  }
}

/**
 * Runs the limiter's statements on the ORM's own pool instead of a second one: the embedded
 * database is a single session that must see exactly one connection. The limiter writes
 * PostgreSQL placeholders (`$1`…, some used twice); the ORM binds `?` positionally.
 */
function viaOrmConnection(connection: Connection) {
  return {
    async query(q: { text: string; values?: unknown[] }) {
      const values: unknown[] = [];
      const sql = q.text.replace(/\$(\d+)/g, (_m, n: string) => {
        values.push(q.values?.[Number(n) - 1]);
        return '?';
      });
      const result = (await connection.execute(sql, values, 'run')) as { affectedRows: number; rows: unknown[] };
      return { rows: result.rows, rowCount: result.affectedRows };
    },
  };
}

function digest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
