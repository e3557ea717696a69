import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Config } from '../../config.ts';
import { parseDjangoHash } from './django-hashers.ts';

/** Marker prefix of an unusable password (as Django's `UNUSABLE_PASSWORD_PREFIX`). */
export const UNUSABLE_PASSWORD_PREFIX = '!';

/** True when `stored` can never match a password (a leading `!`, or empty). */
export function isUnusablePassword(stored: string): boolean {
  return stored === '' || stored.startsWith(UNUSABLE_PASSWORD_PREFIX);
}

/** A fresh unusable marker: `!` plus 40 random characters (never equal for two users). */
export function makeUnusablePassword(): string {
  return UNUSABLE_PASSWORD_PREFIX + randomBytes(30).toString('base64url');
}

/** Outcome of {@link PasswordHasher.verify}. `needsRehash`: re-hash with current parameters. */
export interface VerifyResult {
  valid: boolean;
  needsRehash: boolean;
}

/**
 * argon2id hashing with explicit parameters (default m=19456 KiB, t=2, p=1: OWASP Password
 * Storage Cheat Sheet's minimum for argon2id). Hashes are PHC strings
 * (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). Verification also accepts the hashes of accounts
 * imported from Django (`auth_user.password`: PBKDF2, argon2, bcrypt, scrypt, and the legacy
 * salted/unsalted SHA-1 and MD5 formats; see django-hashers.ts) and asks for a rehash when one
 * matches, so they are upgraded to argon2id at first login. At most `maxConcurrentHashes`
 * expensive computations (ours, and Django's PBKDF2/argon2/bcrypt/scrypt) run at once so logins
 * cannot take every libuv thread from the rest of the service.
 */
export class PasswordHasher {
  private readonly limit: LimitFunction;
  private readonly options: { type: typeof argon2.argon2id; memoryCost: number; timeCost: number; parallelism: number };
  private dummy: Promise<string> | undefined;

  /** `onWait`: called with the seconds each expensive computation waited for a free slot (metrics). */
  constructor(
    config: Config['passwords'],
    private readonly onWait?: (seconds: number) => void,
  ) {
    this.limit = pLimit(config.maxConcurrentHashes);
    this.options = { type: argon2.argon2id, ...config.argon2 };
  }

  /** Computations running (`active`) and waiting for a slot (`pending`) right now. */
  get queue(): { active: number; pending: number } {
    return { active: this.limit.activeCount, pending: this.limit.pendingCount };
  }

  /** Hashes `password` into an argon2id PHC string with the configured parameters. */
  hash(password: string): Promise<string> {
    return this.limited(() => argon2.hash(password, this.options));
  }

  /**
   * Verifies `password` against a stored hash:
   * - our argon2 PHC string (`$argon2…`): one argon2 verification; `needsRehash` when its
   *   parameters are not the configured ones;
   * - a recognised Django hash (see `identifyDjangoHash`): that hasher's verification (PBKDF2,
   *   argon2, bcrypt and scrypt under the concurrency limit; the legacy digests are cheap);
   *   `needsRehash` is true whenever it matches, so the caller stores an argon2id hash instead;
   * - anything else (missing account, unusable `!…`, empty, unrecognised, e.g. Django's
   *   unsupported `crypt$$…`): verified against a dummy hash of the current parameters and forced
   *   to invalid, so exactly one argon2 verification runs and timing does not tell these cases
   *   apart from a wrong password on one of our hashes.
   */
  async verify(stored: string | undefined, password: string): Promise<VerifyResult> {
    const usable = stored !== undefined && !isUnusablePassword(stored);
    if (usable && !stored.startsWith('$argon2')) {
      const django = parseDjangoHash(stored);
      if (django) {
        const valid = await (django.expensive ? this.limited(() => django.verify(password)) : django.verify(password));
        return { valid, needsRehash: valid };
      }
    }
    const ours = usable && stored.startsWith('$argon2');
    const target = ours ? stored : await this.dummyHash();
    let valid: boolean;
    try {
      valid = await this.limited(() => argon2.verify(target, password));
    } catch {
      valid = false;
    }
    valid = valid && ours;
    return { valid, needsRehash: valid && argon2.needsRehash(target, this.options) };
  }

  /** Runs `task` under the concurrency limit, reporting its wait to `onWait`. */
  private limited<T>(task: () => Promise<T>): Promise<T> {
    const queuedAt = performance.now();
    return this.limit(() => {
      this.onWait?.((performance.now() - queuedAt) / 1000);
      return task();
    });
  }

  /** A hash of a random secret, computed once, standing in for missing accounts. */
  dummyHash(): Promise<string> {
    this.dummy ??= argon2.hash(randomBytes(32).toString('hex'), this.options);
    return this.dummy;
  }
}
