import { createRequire } from 'node:module';
import { ZxcvbnFactory, type OptionsType } from '@zxcvbn-ts/core';
import { distance } from 'fastest-levenshtein';
import type { Config } from '../../config.ts';

const require = createRequire(import.meta.url);

const common = require('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]>; adjacencyGraphs: OptionsType['graphs'] };
const english = require('@zxcvbn-ts/language-en') as { dictionary: Record<string, string[]>; translations: OptionsType['translations'] };

/**
 * The common-password list: the 49,233 most common passwords of the zxcvbn-ts project
 * (`@zxcvbn-ts/language-common`, dictionary `passwords-common`), shipped offline in the package.
 */
const commonPasswords: ReadonlySet<string> = new Set(common.dictionary['passwords-common']);

/**
 * zxcvbn-ts (Dropbox's zxcvbn algorithm: the cheapest way to guess a password from
 * dictionaries, keyboard patterns, sequences, repeats and dates, scored 0–4) with its common
 * and English dictionaries, all offline.
 */
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
  translations: english.translations,
});

/** Words about this service that make a password guessable wherever it is deployed. */
const SERVICE_WORDS = ['profilegraph', 'profile', 'graph'];

/** Similarity (0..1) from which a password counts as too close to an identifier or profile value. */
const MAX_SIMILARITY = 0.7;

/**
 * Password rules (SPEC §6, issue 10): length between the configured minimum (default 15, NIST
 * SP 800-63B rev. 4 for a password used as a single factor) and 128,
 * not on the common-password list (compared lower-cased, as Django's
 * CommonPasswordValidator), and not too similar to the identifier or other personal values
 * (the idea of Django's UserAttributeSimilarityValidator, measured here as normalised
 * Levenshtein similarity ≥ 0.7 against each value and each of its word parts, or a password
 * whose letters and digits are mostly those parts), and, when `minStrength` is given, a zxcvbn-ts
 * score of at least `minStrength` with the personal values and the service's name as context
 * words. Returns a message, or `undefined` when the password is acceptable.
 */
export function checkPassword(
  password: string,
  config: Pick<Config['passwords'], 'minLength' | 'maxLength'> & Partial<Pick<Config['passwords'], 'minStrength'>>,
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
  if (config.minStrength) {
    const context = [...SERVICE_WORDS, ...personalValues.filter((v): v is string => Boolean(v))];
    const result = zxcvbn.check(password, context);
    if (result.score < config.minStrength) {
      const hint = result.feedback.warning ?? result.feedback.suggestions[0];
      return `The password is too easy to guess${hint ? `: ${hint.replace(/\.$/, '')}` : ''}. Use a longer phrase of unrelated words.`;
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
