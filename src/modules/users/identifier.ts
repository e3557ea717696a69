import type { FieldErrors } from '../../errors.ts';

/**
 * The comparison form of an identifier: Unicode NFKC, then a full case fold approximated by
 * upper- then lower-casing (so `ß`, `SS` and `ss` meet), then NFKC again because case
 * mapping can denormalise. Two identifiers with the same key are the same account.
 * Source of the idea: Unicode's NFKC_Casefold (UAX #15, Unicode §3.13 "Default Caseless
 * Matching"); JavaScript has no casefold, hence the approximation.
 */
export function identifierKey(identifier: string): string {
  return identifier.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

// C0/C1 controls, and zero-width/bidi format characters that make look-alike identifiers.
const forbidden = /[\p{Cc}\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/u;

/**
 * Core identifier rules (profiles may add more): non-empty, no surrounding whitespace, no
 * control or invisible characters, at most `maxLength` characters after NFKC. Returns
 * per-field errors under `field`, or `undefined` when valid.
 */
export function checkIdentifier(identifier: string, maxLength: number, field = 'identifier'): FieldErrors | undefined {
  if (identifier.trim() === '') return { [field]: 'The identifier must not be empty.' };
  if (identifier !== identifier.trim()) return { [field]: 'The identifier must not start or end with whitespace.' };
  if (forbidden.test(identifier)) return { [field]: 'The identifier contains control or invisible characters.' };
  if ([...identifier.normalize('NFKC')].length > maxLength) {
    return { [field]: `The identifier must be at most ${maxLength} characters long.` };
  }
  return undefined;
}
