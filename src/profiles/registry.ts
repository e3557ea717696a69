import { appError, ErrorCode, type FieldErrors } from '../errors.ts';
import { ProfileDefinitionError, type ProfileDefinition, type ProfileField } from './model.ts';
import { loadProfileDefinitions, matchesFormat } from './parse.ts';

/** A data-bag key resolved to the profile field that holds it. */
export interface ResolvedKey {
  profile: ProfileDefinition;
  field: ProfileField;
  /** `profile.field` */
  qualifiedKey: string;
}

/** A key defined by several installed profiles, and how reads resolve it. */
export interface KeyOverlap {
  key: string;
  /** Qualified keys of every definer, in precedence order. */
  qualifiedKeys: string[];
  /** The profile whose value `data(key)` returns, or `null` when reading is an overlap error. */
  resolvedBy: string | null;
}

export interface RegistryOptions {
  /** Folder of the profile SDL files. */
  dir: string;
  /** `PROFILES`: install exactly these, in this precedence order. Unset: every profile found. */
  installed?: string[] | undefined;
  /** `User` fields a profile name may not take. */
  reservedUserFields: readonly string[];
  /** The core identifier maximum (IDENTIFIER_MAX_LENGTH), to detect contradictions. */
  identifierMaxLength: number;
}

/**
 * The installed profiles, their precedence order, and the data-bag key rules of SPEC §4.
 * Built once at start-up by {@link loadProfileRegistry}; immutable afterwards.
 */
export class ProfileRegistry {
  /** Installed profiles, in precedence order (lowest precedence first, unranked last). */
  readonly profiles: readonly ProfileDefinition[];
  /** Every profile found in the folder, installed or not (migrations cover all of them). */
  readonly discovered: readonly ProfileDefinition[];
  private readonly byName: Map<string, ProfileDefinition>;
  private readonly definers = new Map<string, ResolvedKey[]>();

  constructor(discovered: ProfileDefinition[], installed: ProfileDefinition[]) {
    this.discovered = discovered;
    this.profiles = installed;
    this.byName = new Map(installed.map((p) => [p.name, p]));
    for (const profile of installed) {
      for (const field of profile.fields) {
        const list = this.definers.get(field.name) ?? [];
        list.push({ profile, field, qualifiedKey: `${profile.name}.${field.name}` });
        this.definers.set(field.name, list);
      }
    }
  }

  get(name: string): ProfileDefinition | undefined {
    return this.byName.get(name);
  }

  /**
   * Resolves a key for reading (`data`): a qualified key names its field; an unqualified key
   * defined once is that field; defined several times, the definer of lowest precedence wins
   * if every definer has a distinct precedence. Throws `PROFILE_KEY_UNKNOWN` or
   * `PROFILE_KEY_AMBIGUOUS` (with `extensions.qualifiedKeys`).
   */
  resolveForRead(key: string): ResolvedKey {
    const candidates = this.candidates(key);
    if (candidates.length === 1) return candidates[0]!;
    const winner = this.winner(candidates);
    if (!winner) throw ambiguous(key, candidates);
    return winner;
  }

  /**
   * Resolves a key for writing, filtering or ordering: like {@link resolveForRead}, except
   * that an unqualified key defined by several profiles is always `PROFILE_KEY_AMBIGUOUS`.
   */
  resolveStrict(key: string): ResolvedKey {
    const candidates = this.candidates(key);
    if (candidates.length > 1) throw ambiguous(key, candidates);
    return candidates[0]!;
  }

  /** Every definer of `key` (qualified: just that one), in precedence order. Throws `PROFILE_KEY_UNKNOWN`. */
  candidates(key: string): ResolvedKey[] {
    const dot = key.indexOf('.');
    if (dot >= 0) {
      const profile = this.byName.get(key.slice(0, dot));
      const field = profile?.fields.find((f) => f.name === key.slice(dot + 1));
      if (!profile || !field) throw unknown(key);
      return [{ profile, field, qualifiedKey: key }];
    }
    const list = this.definers.get(key);
    if (!list) throw unknown(key);
    return list;
  }

  /** Keys defined by more than one installed profile, with their resolution. */
  overlaps(): KeyOverlap[] {
    return [...this.definers.entries()]
      .filter(([, list]) => list.length > 1)
      .map(([key, list]) => ({
        key,
        qualifiedKeys: list.map((c) => c.qualifiedKey),
        resolvedBy: this.winner(list)?.profile.name ?? null,
      }));
  }

  /**
   * Applies every installed profile's identifier rules and hooks. Returns per-field errors
   * under `field` whose message names the first refusing profile, or `undefined`.
   */
  async checkIdentifier(identifier: string, field = 'identifier'): Promise<FieldErrors | undefined> {
    const length = [...identifier.normalize('NFKC')].length;
    for (const profile of this.profiles) {
      for (const rule of profile.identifierRules) {
        let problem: string | undefined;
        if (rule.format && !matchesFormat(rule.format, identifier)) problem = `must be ${rule.format === 'EMAIL' ? 'an email address' : 'an absolute URL'}`;
        else if (rule.pattern && !new RegExp(rule.pattern, 'u').test(identifier)) problem = `must match ${rule.pattern}`;
        else if (rule.minLength !== undefined && length < rule.minLength) problem = `must be at least ${rule.minLength} characters long`;
        else if (rule.maxLength !== undefined && length > rule.maxLength) problem = `must be at most ${rule.maxLength} characters long`;
        if (problem) return { [field]: `Profile "${profile.name}" refuses this identifier: ${rule.message ?? problem}.` };
      }
      if (profile.identifierHook) {
        const message = await profile.identifierHook(identifier);
        if (message) return { [field]: `Profile "${profile.name}" refuses this identifier: ${message}` };
      }
    }
    return undefined;
  }

  /** Human-readable start-up report: installed profiles in order, and each overlapping key. */
  report(): string[] {
    const lines = this.profiles.map(
      (p, i) =>
        `profile ${i + 1}. ${p.name} (${p.typeName}, precedence ${p.precedence ?? 'none'}${p.autoCreate ? '' : ', not auto-created'}): ${p.fields.map((f) => f.name).join(', ')}`,
    );
    for (const o of this.overlaps()) {
      lines.push(
        o.resolvedBy
          ? `data key "${o.key}" is defined by ${o.qualifiedKeys.join(', ')}; data(key: "${o.key}") reads ${o.resolvedBy}.${o.key}`
          : `data key "${o.key}" is defined by ${o.qualifiedKeys.join(', ')} without distinct precedences; data(key: "${o.key}") is an overlap error, use a qualified key`,
      );
    }
    return lines;
  }

  private winner(candidates: ResolvedKey[]): ResolvedKey | undefined {
    const precedences = candidates.map((c) => c.profile.precedence);
    if (precedences.some((p) => p === null) || new Set(precedences).size !== precedences.length) return undefined;
    return [...candidates].sort((a, b) => a.profile.precedence! - b.profile.precedence!)[0];
  }
}

function unknown(key: string) {
  return appError(ErrorCode.PROFILE_KEY_UNKNOWN, `No installed profile defines the data key "${key}".`, { key });
}

function ambiguous(key: string, candidates: ResolvedKey[]) {
  const qualifiedKeys = candidates.map((c) => c.qualifiedKey);
  return appError(
    ErrorCode.PROFILE_KEY_AMBIGUOUS,
    `The data key "${key}" is defined by several profiles (${qualifiedKeys.join(', ')}); use one of these qualified keys instead.`,
    { key, qualifiedKeys },
  );
}

/**
 * Discovers the profiles in `options.dir`, installs all of them (or exactly `options.installed`,
 * whose order then is the precedence), and checks them against each other. Throws
 * {@link ProfileDefinitionError} on a name clashing with a `User` field, an unknown name in
 * `installed`, or contradictory identifier rules.
 */
export async function loadProfileRegistry(options: RegistryOptions): Promise<ProfileRegistry> {
  const discovered = await loadProfileDefinitions(options.dir);
  let installed: ProfileDefinition[];
  if (options.installed) {
    const twice = options.installed.find((name, i) => options.installed!.indexOf(name) !== i);
    if (twice) throw new ProfileDefinitionError('PROFILES', `lists "${twice}" twice.`);
    installed = options.installed.map((name, index) => {
      const profile = discovered.find((p) => p.name === name);
      if (!profile) {
        throw new ProfileDefinitionError(
          'PROFILES',
          `lists "${name}", but no profile of that name exists in ${options.dir} (found: ${discovered.map((p) => p.name).join(', ') || 'none'}).`,
        );
      }
      return { ...profile, precedence: index };
    });
  } else {
    installed = [...discovered].sort((a, b) => (a.precedence ?? Infinity) - (b.precedence ?? Infinity) || a.name.localeCompare(b.name));
  }
  for (const profile of installed) {
    if (options.reservedUserFields.includes(profile.name)) {
      throw new ProfileDefinitionError(profile.file, `profile name "${profile.name}" clashes with a User (or UserWhere) field of the same name.`);
    }
  }
  checkIdentifierContradictions(installed, options.identifierMaxLength);
  return new ProfileRegistry(discovered, installed);
}

function checkIdentifierContradictions(profiles: ProfileDefinition[], coreMax: number): void {
  const rules = profiles.flatMap((p) => p.identifierRules.map((rule) => ({ profile: p, rule })));
  const mins = rules.filter((r) => r.rule.minLength !== undefined);
  const maxes = [...rules.filter((r) => r.rule.maxLength !== undefined)];
  for (const low of mins) {
    if (low.rule.minLength! > coreMax) {
      throw new ProfileDefinitionError(
        low.profile.file,
        `@identifier(minLength: ${low.rule.minLength}) of "${low.profile.name}" exceeds IDENTIFIER_MAX_LENGTH (${coreMax}).`,
      );
    }
    for (const high of maxes) {
      if (low.rule.minLength! > high.rule.maxLength!) {
        throw new ProfileDefinitionError(
          low.profile.file,
          `identifier rules contradict: "${low.profile.name}" requires at least ${low.rule.minLength} characters, "${high.profile.name}" (${high.profile.file}) at most ${high.rule.maxLength}.`,
        );
      }
    }
  }
  const formats = rules.filter((r) => r.rule.format);
  const distinct = new Set(formats.map((r) => r.rule.format));
  if (distinct.size > 1) {
    const [a, b] = [formats.find((r) => r.rule.format === 'EMAIL')!, formats.find((r) => r.rule.format === 'URL')!];
    throw new ProfileDefinitionError(
      a.profile.file,
      `identifier rules contradict: "${a.profile.name}" requires an email address, "${b.profile.name}" (${b.profile.file}) an absolute URL.`,
    );
  }
}
