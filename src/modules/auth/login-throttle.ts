import { createHash } from 'node:crypto';
import type { Connection } from '@mikro-orm/postgresql';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../config.ts';
import { appError, ErrorCode } from '../../errors.ts';

/** First wait, in seconds, once a client has used its free failures; it doubles per further failure. */
export const FIRST_DELAY_SECONDS = 5;
/** Window of the per-account ceiling for unknown clients (`LOGIN_MAX_FAILURES_PER_ACCOUNT_HOUR`). */
const ACCOUNT_CEILING_SECONDS = 3600;

type LimiterOptions = Omit<ConstructorParameters<typeof RateLimiterPostgres>[0], 'points' | 'duration' | 'keyPrefix'>;

/**
 * The result of a limiter call whether it resolved or rejected with a `RateLimiterRes`
 * (the store counts the point either way); any other rejection (a database error) is rethrown.
 */
async function settle(promise: Promise<RateLimiterRes>): Promise<{ allowed: boolean; res: RateLimiterRes }> {
  try {
    return { allowed: true, res: await promise };
  } catch (error) {
    if (error instanceof RateLimiterRes) return { allowed: false, res: error };
    throw error;
  }
}

/** A counter of failures per key and window: `points` free, then refused until the window ends. */
class FixedLimit {
  private readonly limiter: RateLimiterPostgres;

  constructor(options: LimiterOptions, keyPrefix: string, points: number, durationSeconds: number) {
    this.limiter = new RateLimiterPostgres({ ...options, keyPrefix, points, duration: durationSeconds });
  }

  /** Counts one attempt; resolves to 0 when it may run, else the milliseconds until it may. */
  async count(key: string): Promise<number> {
    const { allowed, res } = await settle(this.limiter.consume(key));
    return allowed ? 0 : Math.max(res.msBeforeNext, 1);
  }

  /** Takes back one counted attempt (refused, or the secret was right). */
  async refund(key: string): Promise<void> {
    await this.limiter.reward(key, 1);
  }
}

/**
 * A counter of consecutive failures per key and window with escalating delay: the first
 * `points - 1` attempts run freely; from the `points`-th on, each attempt that runs closes a
 * gate for `FIRST_DELAY_SECONDS · 2^(k-1)` seconds (k = 1, 2, … counting from the
 * `points`-th; capped at `maxDelaySeconds`), and attempts while the gate is closed are
 * refused without being counted. Both counter and gate are single atomic upserts in the
 * store (the gate is a one-point limiter whose window is the delay), so concurrent attempts
 * cannot slip through one opening. A success clears both.
 */
class EscalatingLimit {
  private readonly failures: RateLimiterPostgres;
  private readonly gate: RateLimiterPostgres;

  constructor(
    options: LimiterOptions,
    keyPrefix: string,
    private readonly points: number,
    durationSeconds: number,
    private readonly maxDelaySeconds: number,
  ) {
    this.failures = new RateLimiterPostgres({ ...options, keyPrefix, points, duration: durationSeconds });
    this.gate = new RateLimiterPostgres({ ...options, keyPrefix: `${keyPrefix}-gate`, points: 1, duration: durationSeconds });
  }

  /** Counts one attempt; resolves to its number in the window (1 for the first). */
  async count(key: string): Promise<number> {
    return (await settle(this.failures.consume(key))).res.consumedPoints;
  }

  /**
   * For the attempt numbered `n` by {@link count}: 0 when it may run (closing the gate for the
   * next one when `n` has reached the free allowance), else the milliseconds until the gate opens.
   */
  async pass(key: string, n: number): Promise<number> {
    if (n < this.points) return 0;
    const delaySeconds = Math.min(this.maxDelaySeconds, FIRST_DELAY_SECONDS * 2 ** Math.min(n - this.points, 30));
    const { allowed, res } = await settle(this.gate.consume(key, 1, { customDuration: delaySeconds }));
    return allowed ? 0 : Math.max(res.msBeforeNext, 1);
  }

  /** Takes back one counted attempt that was refused. */
  async refund(key: string): Promise<void> {
    await this.failures.reward(key, 1);
  }

  /** After a right secret: forgets the failures and opens the gate. */
  async clear(key: string): Promise<void> {
    await Promise.all([this.failures.delete(key), this.gate.delete(key)]);
  }
}

/**
 * Who is checking a secret, for {@link LoginThrottle}: the client address, and `device` when
 * the client proved an earlier login to this very account (a device token's row id, or the
 * session the request is signed in with). `null`: an unknown client.
 */
export interface ThrottleClient {
  address: string;
  device?: string | null;
}

/**
 * Throttles secret checks (password logins, `changePassword`, mailed tokens) without a lockout
 * lever, after OWASP's "Slow Down Online Guessing Attacks with Device Cookies"
 * (https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies).
 * State is in the `login_rate_limits` table, so every instance shares it
 * (rate-limiter-flexible's PostgreSQL limiter on the ORM's connection).
 *
 * - A **known client** (one that logged in to the account before: a device token of that
 *   account, or its session) has its own allowance per (account, device):
 *   `LOGIN_MAX_FAILURES_PER_IDENTIFIER` per window, then escalating delays. Nothing an
 *   unknown client does changes it, so the owner still gets in while an attacker is throttled.
 * - An **unknown client** is limited per (account, client address) the same way, per client
 *   address over all accounts (`LOGIN_MAX_FAILURES_PER_ADDRESS` per window), and per account
 *   by a ceiling shared by all unknown clients (`LOGIN_MAX_FAILURES_PER_ACCOUNT_HOUR`).
 *
 * Every attempt is counted *before* the secret is checked, so concurrent guesses cannot slip
 * past a limit; a refused attempt is not counted; a right secret clears the client's own
 * counter and refunds its point of the shared ones. Unknown and known identifiers are counted
 * alike, so the answer while throttled tells nothing about the account.
 */
export class LoginThrottle {
  private readonly byClient: EscalatingLimit;
  private readonly byDevice: EscalatingLimit;
  private readonly byAddress: FixedLimit;
  private readonly byAccount: FixedLimit;
  private readonly tokenGuesses: EscalatingLimit;
  private readonly signups: FixedLimit;

  constructor(connection: Connection, config: Config['loginThrottle']) {
    const common: LimiterOptions = {
      storeClient: viaOrmConnection(connection),
      storeType: 'pool',
      tableName: 'login_rate_limits',
      tableCreated: true,
    };
    const window = config.windowSeconds;
    this.byClient = new EscalatingLimit(common, 'client', config.maxFailuresPerIdentifier, window, window);
    this.byDevice = new EscalatingLimit(common, 'device', config.maxFailuresPerIdentifier, window, window);
    this.byAddress = new FixedLimit(common, 'address', config.maxFailuresPerAddress, window);
    this.byAccount = new FixedLimit(common, 'account', config.maxFailuresPerAccountHour, ACCOUNT_CEILING_SECONDS);
    this.tokenGuesses = new EscalatingLimit(common, 'token', config.maxTokenFailuresPerAddress, window, window);
    this.signups = new FixedLimit(common, 'signup', config.maxSignupsPerAddressHour, ACCOUNT_CEILING_SECONDS);
  }

  /**
   * Counts one use of a mailed token (confirmation, reset) or a reset request from `address`:
   * `TOKEN_MAX_FAILURES_PER_ADDRESS` per window, then escalating delays, so tokens cannot be
   * guessed at scale. Throws `RATE_LIMITED` with `extensions.retryAfterSeconds`.
   */
  async consumeTokenGuess(address: string): Promise<void> {
    const n = await this.tokenGuesses.count(address);
    const waitMs = await this.tokenGuesses.pass(address, n);
    if (waitMs > 0) {
      await this.tokenGuesses.refund(address);
      throw rateLimited('Too many attempts. Try again later.', waitMs);
    }
  }

  /**
   * Counts one signup attempt from `address` (each costs an argon2 hash, and a refused one
   * tells whether a unique value is registered): `SIGNUP_MAX_PER_ADDRESS_HOUR` per hour.
   * Throws `RATE_LIMITED` with `extensions.retryAfterSeconds`; the refused attempt is not counted.
   */
  async consumeSignup(address: string): Promise<void> {
    const waitMs = await this.signups.count(address);
    if (waitMs > 0) {
      await this.signups.refund(address);
      throw rateLimited('Too many signups from this address. Try again later.', waitMs);
    }
  }

  /** After a valid token: refund its guess. */
  async tokenSucceeded(address: string): Promise<void> {
    await this.tokenGuesses.refund(address);
  }

  /**
   * Counts one secret check for `accountKey` (any stable key of the account, e.g. the
   * identifier's comparison form; it is hashed) by `client` (an address string means an
   * unknown client at that address). Throws `RATE_LIMITED` with `extensions.retryAfterSeconds`
   * (whole seconds) when a limit that applies to the client refuses it; the refused attempt is
   * then not counted.
   */
  async consume(accountKey: string, client: ThrottleClient | string): Promise<void> {
    const { address, device } = typeof client === 'string' ? { address: client, device: null } : client;
    if (device) {
      const key = digest(accountKey, device);
      const n = await this.byDevice.count(key);
      const waitMs = await this.byDevice.pass(key, n);
      if (waitMs > 0) {
        await this.byDevice.refund(key);
        throw rateLimited('Too many failed attempts. Try again later.', waitMs);
      }
      return;
    }
    const pair = digest(accountKey, address);
    const account = digest(accountKey);
    const [n, addressWait, accountWait] = await Promise.all([this.byClient.count(pair), this.byAddress.count(address), this.byAccount.count(account)]);
    let waitMs = Math.max(addressWait, accountWait);
    if (waitMs === 0) waitMs = await this.byClient.pass(pair, n);
    if (waitMs > 0) {
      await Promise.all([this.byClient.refund(pair), this.byAddress.refund(address), this.byAccount.refund(account)]);
      throw rateLimited('Too many failed attempts. Try again later.', waitMs);
    }
  }

  /**
   * After a right secret: forgets the client's failures on the account and refunds its point
   * of the shared counters (the account ceiling keeps the other clients' failures).
   */
  async succeeded(accountKey: string, client: ThrottleClient | string): Promise<void> {
    const { address, device } = typeof client === 'string' ? { address: client, device: null } : client;
    if (device) {
      await this.byDevice.clear(digest(accountKey, device));
      return;
    }
    await Promise.all([this.byClient.clear(digest(accountKey, address)), this.byAddress.refund(address), this.byAccount.refund(digest(accountKey))]);
  }
}

function rateLimited(message: string, waitMs: number) {
  return appError(ErrorCode.RATE_LIMITED, message, { retryAfterSeconds: Math.ceil(waitMs / 1000) });
}

/**
 * Runs the limiter's statements on the ORM's own pool instead of a second one: the embedded
 * database is a single session that must see exactly one connection. The limiter writes
 * PostgreSQL placeholders (`$1`…, some used twice); the ORM binds `?` positionally.
 * Also the store client of the mail quota (`modules/mail/mail-quota.ts`).
 */
export function viaOrmConnection(connection: Connection) {
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

/** SHA-256 (hex) of the parts joined by NUL: fixed-length store keys that reveal no identifier. */
function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0'), 'utf8').digest('hex');
}
