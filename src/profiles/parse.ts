import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  buildASTSchema,
  concatAST,
  getDirectiveValues,
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type EnumTypeDefinitionNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
} from 'graphql';
import { DateResolver, DateTimeResolver, EmailAddressResolver, URLResolver } from 'graphql-scalars';
import {
  ProfileDefinitionError,
  snakeCase,
  type FieldKind,
  type IdentifierHook,
  type IdentifierRule,
  type ProfileDefinition,
  type ProfileField,
} from './model.ts';

const scalarKinds: Record<string, FieldKind> = {
  String: 'string',
  ID: 'string',
  Int: 'int',
  Float: 'float',
  Boolean: 'boolean',
  DateTime: 'datetime',
  Date: 'date',
  JSON: 'json',
  EmailAddress: 'email',
  URL: 'url',
};

const NAME = /^[a-z][A-Za-z0-9]*$/;
const INT32 = 2 ** 31;

/**
 * Reads every `*.graphql` file of `dir` and returns the profiles they declare, sorted by
 * name. Each file holds one object type carrying `@profile` plus any enums it uses. Loads an
 * identifier hook from `<file>.hooks.ts` beside the file when present (export
 * `validateIdentifier`). Throws {@link ProfileDefinitionError} naming the file and field of
 * the first problem.
 */
export async function loadProfileDefinitions(dir: string): Promise<ProfileDefinition[]> {
  const folder = resolve(dir);
  if (!existsSync(folder)) return [];
  const profiles: ProfileDefinition[] = [];
  for (const name of readdirSync(folder)
    .filter((f) => f.endsWith('.graphql'))
    .sort()) {
    const file = join(folder, name);
    const found = parseProfileFile(file, readFileSync(file, 'utf8'));
    for (const profile of found) {
      profile.identifierHook = await loadHook(file);
      profiles.push(profile);
    }
  }
  const seen = new Map<string, string>();
  for (const p of profiles) {
    for (const key of [`profile ${p.name}`, `type ${p.typeName}`, `table ${p.table}`]) {
      const other = seen.get(key);
      if (other) throw new ProfileDefinitionError(p.file, `${key} is also declared in ${other}.`);
      seen.set(key, p.file);
    }
  }
  return profiles.sort((a, b) => a.name.localeCompare(b.name));
}

/** Parses one profile SDL file. Exported for tests; see {@link loadProfileDefinitions}. */
export function parseProfileFile(file: string, sdl: string): ProfileDefinition[] {
  let document: DocumentNode;
  try {
    document = parse(sdl);
  } catch (error) {
    throw new ProfileDefinitionError(file, `invalid SDL: ${(error as Error).message}`);
  }
  const enums = new Map<string, string[]>();
  for (const def of document.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION) enums.set(def.name.value, enumValues(def));
  }
  const profiles: ProfileDefinition[] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION && directive(def.directives, 'profile')) {
      profiles.push(profileFrom(file, sdl, def, enums));
    } else if (def.kind !== Kind.ENUM_TYPE_DEFINITION) {
      throw new ProfileDefinitionError(file, `only @profile object types and the enums they use belong in a profile file (found ${def.kind}).`);
    }
  }
  checkAgainstDirectives(file, document);
  return profiles;
}

/**
 * graphql-js's own SDL validation of the file against the declared directives and scalars:
 * unknown directives (a typo like `@defualt`), arguments of the wrong type
 * (`autoCreate: "no"`), repeated non-repeatable directives.
 */
function checkAgainstDirectives(file: string, document: DocumentNode): void {
  try {
    const schema = buildASTSchema(concatAST([directiveDocument(), document]));
    // SDL validation does not type-check directive arguments; coercing them does.
    for (const def of document.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
      for (const node of [def, ...(def.fields ?? [])]) {
        for (const d of node.directives ?? []) getDirectiveValues(schema.getDirective(d.name.value)!, { directives: [d] });
      }
    }
  } catch (error) {
    throw new ProfileDefinitionError(file, (error as Error).message);
  }
}

function schemaFile(name: string): string {
  return readFileSync(new URL(`../../schema/${name}`, import.meta.url), 'utf8');
}

let directives: DocumentNode | undefined;
function directiveDocument(): DocumentNode {
  directives ??= parse([schemaFile('profile-directives.graphql'), schemaFile('scalars.graphql')].join('\n'));
  return directives;
}

/** Names declared by the profile definition language, see {@link definitionVocabulary}. */
export interface DefinitionVocabulary {
  /** `profile`, `identifier`, `default`, `unique`, `private`, `readonly`, `length`. */
  directives: ReadonlySet<string>;
  /** Types declared only for those directives' arguments (`IdentifierFormat`). */
  types: ReadonlySet<string>;
}

let vocabulary: DefinitionVocabulary | undefined;
/**
 * The directives and argument types of `schema/profile-directives.graphql`, the language profile
 * files are written in. They describe tables and rules to this engine; they are not part of the
 * API a client sees (see `sdl.ts#withoutDefinitionLanguage`).
 */
export function definitionVocabulary(): DefinitionVocabulary {
  if (!vocabulary) {
    const definitions = parse(schemaFile('profile-directives.graphql')).definitions;
    vocabulary = {
      directives: new Set(definitions.flatMap((d) => (d.kind === Kind.DIRECTIVE_DEFINITION ? [d.name.value] : []))),
      types: new Set(definitions.flatMap((d) => ('name' in d && d.kind !== Kind.DIRECTIVE_DEFINITION && d.name ? [d.name.value] : []))),
    };
  }
  return vocabulary;
}

function profileFrom(file: string, sdl: string, def: ObjectTypeDefinitionNode, enums: Map<string, string[]>): ProfileDefinition {
  const args = directiveArgs(directive(def.directives, 'profile')!);
  const name = args.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ProfileDefinitionError(file, `@profile(name:) of ${def.name.value} must be a camelCase name like "account" (got ${JSON.stringify(name)}).`);
  }
  const autoCreate = args.autoCreate === undefined ? true : args.autoCreate === true;
  const onDelete = args.onDelete ?? 'DELETE';
  if (onDelete !== 'DELETE' && onDelete !== 'ANONYMIZE') {
    throw new ProfileDefinitionError(file, `@profile(onDelete:) of "${name}" must be DELETE or ANONYMIZE (got ${JSON.stringify(onDelete)}).`);
  }
  const precedence = args.precedence === undefined || args.precedence === null ? null : Number(args.precedence);
  if (precedence !== null && !Number.isInteger(precedence)) {
    throw new ProfileDefinitionError(file, `@profile(precedence:) of "${name}" must be an integer.`);
  }
  const fields = (def.fields ?? []).map((field) => fieldFrom(file, name, field, enums, autoCreate));
  if (fields.length === 0) throw new ProfileDefinitionError(file, `profile "${name}" declares no fields.`);
  for (const [i, field] of fields.entries()) {
    const twin = fields.slice(0, i).find((f) => f.column === field.column);
    if (twin) throw new ProfileDefinitionError(file, `fields ${name}.${twin.name} and ${name}.${field.name} would share the column "${field.column}".`);
  }
  const identifierRules = (def.directives ?? []).filter((d) => d.name.value === 'identifier').map((d) => identifierRuleFrom(file, name, directiveArgs(d)));
  return {
    name,
    typeName: def.name.value,
    table: `profile_${snakeCase(name)}`,
    file,
    autoCreate,
    onDelete,
    precedence,
    fields,
    identifierRules,
    identifierHook: undefined,
    description: def.description?.value,
    sdl,
  };
}

function fieldFrom(file: string, profile: string, node: FieldDefinitionNode, enums: Map<string, string[]>, autoCreate: boolean): ProfileField {
  const where = `field ${profile}.${node.name.value}`;
  const fail = (message: string) => new ProfileDefinitionError(file, `${where}: ${message}`);
  if (node.arguments?.length) throw fail('profile fields take no arguments.');
  if (!NAME.test(node.name.value)) throw fail('field names must be camelCase.');
  const column = snakeCase(node.name.value);
  if (column === 'user_id') throw fail('"userId" is reserved for the key column.');
  let type = node.type;
  const nullable = type.kind !== Kind.NON_NULL_TYPE;
  if (type.kind === Kind.NON_NULL_TYPE) type = type.type;
  if (type.kind === Kind.LIST_TYPE) throw fail('list types are not supported; use JSON.');
  const graphqlType = type.name.value;
  const kind: FieldKind | undefined = enums.has(graphqlType) ? 'enum' : scalarKinds[graphqlType];
  if (!kind) {
    throw fail(`unsupported type ${graphqlType} (use ${Object.keys(scalarKinds).join(', ')} or an enum declared in the same file).`);
  }
  const has = (n: string) => directive(node.directives, n) !== undefined;
  const lengthDirective = directive(node.directives, 'length');
  const maxLength = lengthDirective ? Number(directiveArgs(lengthDirective).max) : undefined;
  if (maxLength !== undefined && (kind !== 'string' || !Number.isInteger(maxLength) || maxLength < 1)) {
    throw fail('@length(max:) needs a String field and a positive integer.');
  }
  const field: ProfileField = {
    name: node.name.value,
    column,
    kind,
    graphqlType,
    nullable,
    defaultValue: undefined,
    unique: has('unique'),
    private: has('private'),
    readonly: has('readonly'),
    maxLength,
    enumValues: enums.get(graphqlType),
    description: node.description?.value,
  };
  const defaultDirective = directive(node.directives, 'default');
  if (defaultDirective) {
    const value = directiveArgs(defaultDirective).value;
    const problem = checkValue(field, value);
    if (problem) throw fail(`@default: ${problem}`);
    if (field.unique) throw fail('a @unique field cannot have a @default (every row would share it).');
    field.defaultValue = value;
  }
  if (autoCreate && !nullable && field.defaultValue === undefined) {
    throw fail(
      'is non-null without @default, so the profile could never be created for existing users or at a signup ' +
        'that omits it; make it nullable, give it a @default, or declare the profile with autoCreate: false.',
    );
  }
  return field;
}

/**
 * Checks a JS value against a field's kind and rules; returns a message or `undefined`.
 * Null is accepted only for nullable fields. Used for defaults, signup input and `setData`.
 */
export function checkValue(field: ProfileField, value: unknown): string | undefined {
  if (value === null || value === undefined) return field.nullable ? undefined : 'a value is required.';
  switch (field.kind) {
    case 'string':
    case 'email':
    case 'url': {
      if (typeof value !== 'string') return 'expected a string.';
      if (field.maxLength !== undefined && [...value].length > field.maxLength) {
        return `must be at most ${field.maxLength} characters long.`;
      }
      if (field.kind === 'email' && !accepts(EmailAddressResolver, value)) return 'expected an email address.';
      if (field.kind === 'url' && !accepts(URLResolver, value)) return 'expected an absolute URL.';
      return undefined;
    }
    case 'int':
      return Number.isInteger(value) && Math.abs(value as number) < INT32 ? undefined : 'expected a 32-bit integer.';
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'expected a number.';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected true or false.';
    case 'datetime':
      return value instanceof Date || accepts(DateTimeResolver, value) ? undefined : 'expected an RFC 3339 date-time.';
    case 'date':
      return accepts(DateResolver, value) ? undefined : 'expected a date (YYYY-MM-DD).';
    case 'enum':
      return typeof value === 'string' && field.enumValues!.includes(value) ? undefined : `expected one of ${field.enumValues!.join(', ')}.`;
    case 'json':
      return undefined;
  }
}

/** Validation is graphql-scalars' own: the same rules as for GraphQL input of these scalars. */
function accepts(scalar: { parseValue(value: unknown): unknown }, value: unknown): boolean {
  try {
    scalar.parseValue(value);
    return true;
  } catch {
    return false;
  }
}

/** Whether `value` satisfies the identifier `format`. */
export function matchesFormat(format: 'EMAIL' | 'URL', value: string): boolean {
  return accepts(format === 'EMAIL' ? EmailAddressResolver : URLResolver, value);
}

function identifierRuleFrom(file: string, profile: string, args: Record<string, unknown>): IdentifierRule {
  const rule: IdentifierRule = {
    format: args.format as IdentifierRule['format'],
    pattern: args.pattern as string | undefined,
    minLength: args.minLength as number | undefined,
    maxLength: args.maxLength as number | undefined,
    message: args.message as string | undefined,
  };
  if (rule.format !== undefined && rule.format !== 'EMAIL' && rule.format !== 'URL') {
    throw new ProfileDefinitionError(file, `@identifier(format:) of "${profile}" must be EMAIL or URL.`);
  }
  if (rule.pattern !== undefined) {
    try {
      new RegExp(rule.pattern, 'u');
    } catch (error) {
      throw new ProfileDefinitionError(file, `@identifier(pattern:) of "${profile}" is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  if (rule.minLength !== undefined && rule.maxLength !== undefined && rule.minLength > rule.maxLength) {
    throw new ProfileDefinitionError(file, `@identifier of "${profile}": minLength is greater than maxLength.`);
  }
  return rule;
}

async function loadHook(file: string): Promise<IdentifierHook | undefined> {
  const hookFile = join(file, '..', `${basename(file, '.graphql')}.hooks.ts`);
  if (!existsSync(hookFile)) return undefined;
  const module = (await import(pathToFileURL(hookFile).href)) as { validateIdentifier?: IdentifierHook };
  if (typeof module.validateIdentifier !== 'function') {
    throw new ProfileDefinitionError(hookFile, 'a profile hook module must export a function validateIdentifier(identifier).');
  }
  return module.validateIdentifier;
}

function directive(directives: readonly ConstDirectiveNode[] | undefined, name: string): ConstDirectiveNode | undefined {
  return directives?.find((d) => d.name.value === name);
}

function directiveArgs(node: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries((node.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
}

function enumValues(def: EnumTypeDefinitionNode): string[] {
  return (def.values ?? []).map((v) => v.name.value);
}
