/** Storage kinds a profile field can have; each maps to one column type. */
export type FieldKind = 'string' | 'int' | 'float' | 'boolean' | 'datetime' | 'date' | 'json' | 'enum' | 'email' | 'url';

/** One field of a profile, as derived from its SDL definition. */
export interface ProfileField {
  /** GraphQL field name (camelCase), also the unqualified data-bag key. */
  name: string;
  /** Column in `profile_<name>` (snake_case of `name`). */
  column: string;
  kind: FieldKind;
  /** The GraphQL named type: `String`, `EmailAddress`, an enum name… */
  graphqlType: string;
  nullable: boolean;
  /** Value from `@default(value:)`, already checked against the kind; `undefined` when none. */
  defaultValue: unknown;
  unique: boolean;
  private: boolean;
  readonly: boolean;
  /** From `@length(max:)` on String fields. */
  maxLength: number | undefined;
  /** Allowed values of an enum field. */
  enumValues: string[] | undefined;
  description: string | undefined;
}

/** An identifier rule a profile contributes (`@identifier` on the profile type). */
export interface IdentifierRule {
  format: 'EMAIL' | 'URL' | undefined;
  pattern: string | undefined;
  minLength: number | undefined;
  maxLength: number | undefined;
  message: string | undefined;
}

/** Checks an identifier in TypeScript; returns a message to refuse it. */
export type IdentifierHook = (identifier: string) => string | undefined | Promise<string | undefined>;

/** An installed profile: one SDL file in `schema/profiles/`, one table, one `User` field. */
export interface ProfileDefinition {
  /** `User` field name and table suffix. */
  name: string;
  /** The GraphQL object type (e.g. `AccountProfile`). */
  typeName: string;
  /** `profile_<snake name>`. */
  table: string;
  /** Absolute path of the SDL file. */
  file: string;
  autoCreate: boolean;
  /**
   * What deleting an account does with the row (`@profile(onDelete:)`, default `DELETE`):
   * `ANONYMIZE` keeps its non-`@private`, non-`@unique` values, unlinked, in `deleted_profile_rows`.
   */
  onDelete: 'DELETE' | 'ANONYMIZE';
  /** Declared (or configured) precedence for overlapping data-bag keys; lower wins. */
  precedence: number | null;
  fields: ProfileField[];
  identifierRules: IdentifierRule[];
  /** From `<name>.hooks.ts` beside the SDL file, when present. */
  identifierHook: IdentifierHook | undefined;
  description: string | undefined;
  /** The file's SDL (the profile type and any enums it declares). */
  sdl: string;
}

/** Raised at start-up for a profile that cannot be installed; names the file and field. */
export class ProfileDefinitionError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ProfileDefinitionError';
  }
}

/** `firstName` → `first_name`, as MikroORM's underscore naming strategy does. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}
