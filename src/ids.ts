import { badInput } from './errors.ts';

const DIGITS = /^\d{1,19}$/;
/** The largest PostgreSQL `bigint` (2^63 − 1), the type of every row id. */
const MAX_ID = 9223372036854775807n;

/**
 * The canonical form of a row id (a positive PostgreSQL `bigint` written in decimal without
 * leading zeros: `"0042"` → `"42"`), or null when `value` is not one (not 1–19 digits, zero,
 * or above 2^63 − 1). Ids are compared only in this form, so `"01"` and `"1"` name one user.
 */
export function canonicalId(value: string): string | null {
  if (!DIGITS.test(value)) return null;
  const n = BigInt(value);
  return n > 0n && n <= MAX_ID ? n.toString() : null;
}

/** Whether `value` names a row id ({@link canonicalId} is not null). */
export function isId(value: string): boolean {
  return canonicalId(value) !== null;
}

/**
 * The one parser of ids given to act on (`follow(userId)`, `setUserGroups(groupId)`, a
 * `follows` filter…): returns the canonical id ({@link canonicalId}), else throws
 * `BAD_USER_INPUT` naming `field`. Lookups that answer null for an unknown id (`user(id)`,
 * `_usersByIds`) use {@link canonicalId} instead, so a malformed id there is just an unknown one.
 */
export function parseId(value: string, field: string): string {
  const id = canonicalId(value);
  if (id === null) throw badInput({ [field]: 'Not a valid id.' });
  return id;
}
