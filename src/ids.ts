import { badInput } from './errors.ts';

const ID = /^\d{1,19}$/;

/** Whether `value` has the shape of a row id: a bigint as a decimal string (1–19 digits). */
export function isId(value: string): boolean {
  return ID.test(value);
}

/**
 * The one parser of ids given to act on (`follow(userId)`, `setUserGroups(groupId)`, a
 * `follows` filter…): returns `value` when it is a decimal bigint string, else throws
 * `BAD_USER_INPUT` naming `field`. Lookups that answer null for an unknown id (`user(id)`,
 * `_usersByIds`) use {@link isId} instead, so a malformed id there is just an unknown one.
 */
export function parseId(value: string, field: string): string {
  if (!isId(value)) throw badInput({ [field]: 'Not a valid id.' });
  return value;
}
