import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Config } from '../../config.ts';

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
 * (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). At most `maxConcurrentHashes` computations run at
 * once so logins cannot take every libuv thread from the rest of the service.
 */
export class PasswordHasher {
  private readonly limit: LimitFunction;
  private readonly options: { type: typeof argon2.argon2id; memoryCost: number; timeCost: number; parallelism: number };
  private dummy: Promise<string> | undefined;

  constructor(config: Config['passwords']) {
    this.limit = pLimit(config.maxConcurrentHashes);
    this.options = { type: argon2.argon2id, ...config.argon2 };
  }

  /** Hashes `password` into an argon2id PHC string with the configured parameters. */
  hash(password: string): Promise<string> {
    return this.limit(() => argon2.hash(password, this.options));
  }

  /**
   * Verifies `password` against a stored PHC string. Exactly one argon2 verification runs
   * whatever `stored` is: an unusable or unparsable value is replaced by a dummy hash of the
   * current parameters and the result forced to invalid, so timing does not tell them apart.
   */
  async verify(stored: string | undefined, password: string): Promise<VerifyResult> {
    const usable = stored !== undefined && !isUnusablePassword(stored) && stored.startsWith('$argon2');
    const target = usable ? stored : await this.dummyHash();
    let valid = false;
    try {
      valid = await this.limit(() => argon2.verify(target, password));
    } catch {
      valid = false;
    }
    valid = valid && usable;
    return { valid, needsRehash: valid && argon2.needsRehash(target, this.options) };
  }

  /** A hash of a random secret, computed once, standing in for missing accounts. */
  dummyHash(): Promise<string> {
    this.dummy ??= argon2.hash(randomBytes(32).toString('hex'), this.options);
    return this.dummy;
  }
}
