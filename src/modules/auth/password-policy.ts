import { createRequire } from 'node:module';
import { distance } from 'fastest-levenshtein';
import type { Config } from '../../config.ts';

const require = createRequire(import.meta.url);

/**
 * The common-password list: the 49,233 most common passwords of the zxcvbn-ts project
 * (`@zxcvbn-ts/language-common`, dictionary `passwords-common`), shipped offline in the package.
 */
const commonPasswords: ReadonlySet<string> = new Set(
  (require('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> }).dictionary['passwords-common'],
);

/** Similarity (0..1) from which a password counts as too close to an identifier or profile value. */
const MAX_SIMILARITY = 0.7;

/**
 * Password rules (SPEC §6): length between the configured minimum (default 12) and 128,
 * not on the common-password list (compared lower-cased, as Django's
 * CommonPasswordValidator), and not too similar to the identifier or other personal values
 * (the idea of Django's UserAttributeSimilarityValidator, measured here as normalised
 * Levenshtein similarity ≥ 0.7 against each value and each of its word parts, or a password
 * whose letters and digits are mostly those parts). Returns a message, or `undefined` when the password is acceptable.
 */
export function checkPassword(
  password: string,
  config: Pick<Config['passwords'], 'minLength' | 'maxLength'>,
  personalValues: readonly (string | null | undefined)[] = [],
): string | undefined {
  const length = [...password].length;
  if (length < config.minLength) return `The password must be at least ${config.minLength} characters long.`;
  if (length > config.maxLength) return `The password must be at most ${config.maxLength} characters long.`;
  const lowered = password.toLowerCase();
  if (commonPasswords.has(lowered.trim())) return 'This password is too common.';
  for (const value of personalValues) {
    if (value && tooSimilar(lowered, value.toLowerCase())) {
      return 'The password is too similar to the identifier or other personal details.';
    }
  }
  return undefined;
}

function tooSimilar(password: string, value: string): boolean {
  const parts = [value, ...value.split(/[\W_]+/u).filter((p) => p.length >= 3)];
  // Mostly made of the value's parts ("grace.hopper1906" for "grace.hopper@…").
  let rest = password;
  for (const part of [...parts].sort((a, b) => b.length - a.length)) rest = rest.split(part).join('');
  if (rest.replace(/[\W_]/gu, '').length * 2 < password.replace(/[\W_]/gu, '').length) return true;
  for (const part of parts) {
    const longest = Math.max(password.length, part.length);
    if (1 - distance(password, part) / longest >= MAX_SIMILARITY) return true;
  }
  return false;
}
