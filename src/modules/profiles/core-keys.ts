import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProfileLoaders } from '../../profiles/loaders.ts';
import type { ProfileDefinition, ProfileField } from '../../profiles/model.ts';
import type { ProfileRegistry, ResolvedKey } from '../../profiles/registry.ts';
import { ident, rawSql, sql, type Sql } from '../../profiles/sql.ts';
import { selectValue } from '../../profiles/store.ts';

/** The value type a core key is expected to hold; a value of another type reads as absent. */
type KeyType = 'boolean' | 'string' | 'datetime';

interface CoreKeyDefinition {
  type: KeyType;
  /** What the core reads when no installed profile defines the key, or its value is null or of another type. */
  absent: boolean | null;
  /** Account flags that only `auth.change_user` staff may write (`isSuperuser`: only superusers). */
  privilege?: true;
  meaning: string;
}

/**
 * The data-bag keys the core flows rely on, declared once (SPEC §4: "server flows use the bag
 * too"). Core code names one of these keys, never a profile: whichever installed profile
 * defines the key (by the bag's read rule) holds it. Values follow Django's `AbstractUser`.
 */
export const coreKeys = {
  isActive: { type: 'boolean', absent: true, privilege: true, meaning: 'The account may log in and holds its permissions (Django `is_active`).' },
  isStaff: { type: 'boolean', absent: false, privilege: true, meaning: 'Staff status: administration and private fields (Django `is_staff`).' },
  isSuperuser: { type: 'boolean', absent: false, privilege: true, meaning: 'Holds every permission (Django `is_superuser`).' },
  email: { type: 'string', absent: null, meaning: 'The address password-reset and notice mails go to.' },
  emailConfirmedAt: { type: 'datetime', absent: null, meaning: 'When `email` was confirmed (with `email`, enables email confirmation).' },
  lastLogin: { type: 'datetime', absent: null, meaning: 'Stamped on every successful login, in every profile defining it (Django `last_login`).' },
  dateJoined: { type: 'datetime', absent: null, meaning: 'Stamped at signup, in every profile defining it (Django `date_joined`).' },
  followRequiresConfirmation: { type: 'boolean', absent: false, meaning: 'New followers of the user wait for confirmation.' },
} as const satisfies Record<string, CoreKeyDefinition>;

export type CoreKey = keyof typeof coreKeys;

/** The TypeScript type of a core key's value. */
export type CoreValue<K extends CoreKey> = (typeof coreKeys)[K]['type'] extends 'boolean' ? boolean : string | null;

/** Names of the privilege flags (`isActive`, `isStaff`, `isSuperuser`). */
export const privilegeKeys: ReadonlySet<string> = new Set(
  Object.entries(coreKeys)
    .filter(([, d]) => (d as CoreKeyDefinition).privilege)
    .map(([k]) => k),
);

const kindsOf: Record<KeyType, readonly ProfileField['kind'][]> = {
  boolean: ['boolean'],
  string: ['string', 'email', 'url', 'enum'],
  datetime: ['datetime'],
};

/**
 * The one rule turning a stored value into a core key's value: the value when it has the
 * key's type, else the key's absent value (`isActive` absent → true).
 */
export function coreValue<K extends CoreKey>(key: K, raw: unknown): CoreValue<K> {
  const definition: CoreKeyDefinition = coreKeys[key];
  const typed = definition.type === 'boolean' ? typeof raw === 'boolean' : typeof raw === 'string' || raw instanceof Date;
  if (!typed) return definition.absent as CoreValue<K>;
  return (raw instanceof Date ? raw.toISOString() : raw) as CoreValue<K>;
}

/**
 * Reads the core keys of a user through the installed profiles: which field holds a key is
 * decided by the registry's read rule (an unknown or ambiguous key, or a field of the wrong
 * kind, is absent), and every value goes through {@link coreValue}.
 */
export class CoreKeys {
  private readonly holders = new Map<CoreKey, ResolvedKey | undefined>();

  constructor(private readonly registry: ProfileRegistry) {
    for (const key of Object.keys(coreKeys) as CoreKey[]) {
      let resolved: ResolvedKey | undefined;
      try {
        resolved = registry.resolveForRead(key);
      } catch {
        resolved = undefined;
      }
      this.holders.set(key, resolved && kindsOf[coreKeys[key].type].includes(resolved.field.kind) ? resolved : undefined);
    }
  }

  /** The profile field holding `key`, or undefined when no installed profile defines it (unambiguously). */
  holder(key: CoreKey): ResolvedKey | undefined {
    return this.holders.get(key);
  }

  /** `key` of `userId` read straight from its column (one statement; a missing row reads as the field's default). */
  async read<K extends CoreKey>(em: EntityManager, userId: string, key: K): Promise<CoreValue<K>> {
    const holder = this.holders.get(key);
    if (!holder) return coreValue(key, undefined);
    const value = await selectValue(em, holder.profile, holder.field, userId);
    return coreValue(key, value === undefined ? holder.field.defaultValue : value);
  }

  /**
   * {@link coreValue}'s rule for a boolean key as SQL, to fold the key into a statement over
   * `users` (e.g. the session lookup): `join` left-joins the holding profile's table as
   * `alias` on `<userAlias>.id` (empty when no profile holds the key), and `holds` is a
   * condition true exactly when the key reads true — a stored boolean as stored, a null value
   * as the key's absent value, a missing row as the field's default (or the absent value).
   */
  flagSql(key: 'isActive' | 'isStaff' | 'isSuperuser' | 'followRequiresConfirmation', userAlias: string, alias: string): { join: Sql; holds: Sql } {
    const holder = this.holders.get(key);
    const absent = coreValue(key, undefined);
    if (!holder) return { join: rawSql(''), holds: rawSql(absent ? 'true' : 'false') };
    const column = ident(alias, holder.field.column);
    const join = sql`left join ${ident(holder.profile.table)} as ${ident(alias)} on ${ident(alias, 'user_id')} = ${ident(userAlias, 'id')}`;
    const whenStored = absent ? sql`${column} is not false` : sql`${column} is true`;
    // A missing row (every column null through the left join) reads as the field's default.
    const whenMissing = coreValue(key, holder.field.defaultValue) ? rawSql('true') : rawSql('false');
    return { join, holds: sql`(case when ${ident(alias, 'user_id')} is null then ${whenMissing} else ${whenStored} end)` };
  }

  /** `key` of `userId` through the request's batched profile loaders. */
  async load<K extends CoreKey>(loaders: ProfileLoaders, userId: string, key: K): Promise<CoreValue<K>> {
    const holder = this.holders.get(key);
    if (!holder) return coreValue(key, undefined);
    const row = await loaders.load(holder.profile.name, userId);
    return coreValue(key, row?.[holder.field.name]);
  }

  /** Every installed profile field named `key` with the key's type: where a stamp (`lastLogin`, `dateJoined`) is written. */
  stampTargets(key: CoreKey): { profile: ProfileDefinition; field: ProfileField }[] {
    return this.registry.profiles.flatMap((profile) =>
      profile.fields.filter((f) => f.name === key && kindsOf[coreKeys[key].type].includes(f.kind)).map((field) => ({ profile, field })),
    );
  }
}
