import { isTypeDefinitionNode, isTypeExtensionNode, Kind, parse, print, visit, type ASTNode } from 'graphql';
import type { ProfileDefinition, ProfileField } from './model.ts';
import { definitionVocabulary } from './parse.ts';
import type { ProfileRegistry } from './registry.ts';

const filterTypes: Record<ProfileField['kind'], string> = {
  string: 'StringFilter',
  email: 'StringFilter',
  url: 'StringFilter',
  int: 'IntFilter',
  float: 'FloatFilter',
  boolean: 'BooleanFilter',
  datetime: 'DateTimeFilter',
  date: 'DateFilter',
  json: 'JSONFilter',
  enum: '',
};

/** GraphQL filter input type of a field (enums get `<Enum>Filter`). */
export function filterTypeOf(field: ProfileField): string {
  return field.kind === 'enum' ? `${field.graphqlType}Filter` : filterTypes[field.kind];
}

/**
 * `sdl` (one SDL document) without the profile definition language
 * (`schema/profile-directives.graphql`, {@link definitionVocabulary}): every use of `@profile`,
 * `@identifier`, `@default`, `@unique`, `@private`, `@readonly`, `@length` is dropped, and so are
 * their definitions and the types declared for their arguments. Descriptions and everything else
 * are kept (printed again by graphql-js `print`). Returns `''` when nothing is left. Throws
 * graphql-js's `GraphQLError` on SDL that does not parse.
 */
export function withoutDefinitionLanguage(sdl: string): string {
  const { directives, types } = definitionVocabulary();
  const internal = (node: ASTNode): boolean =>
    ((node.kind === Kind.DIRECTIVE || node.kind === Kind.DIRECTIVE_DEFINITION) && directives.has(node.name.value)) ||
    ((isTypeDefinitionNode(node) || isTypeExtensionNode(node)) && types.has(node.name.value));
  // Returning null from `enter` removes the node (graphql-js `visit`).
  const document = visit(parse(sdl), { enter: (node) => (internal(node) ? null : undefined) });
  return document.definitions.length ? print(document) : '';
}

/**
 * The SDL derived from the installed profiles (SPEC §3): each profile file's own types, the
 * `User.<profile>` fields, `<Type>Input` (every field optional: signup, updates),
 * `ProfilesInput`, the `profiles` argument of `SignupInput` and `CreateUserInput`, `<Type>Filter` and its place in
 * `UserWhere`, enum filters, and `updateProfiles`. The files' types come without the definition
 * directives ({@link withoutDefinitionLanguage}). Empty when no profile is installed.
 */
export function profileTypeDefs(registry: ProfileRegistry): string[] {
  const profiles = registry.profiles;
  if (profiles.length === 0) return [];
  // Each file's own types as clients see them: the definition directives are the engine's business.
  const docs: string[] = [...new Set(profiles.map((p) => p.sdl))].map(withoutDefinitionLanguage).filter(Boolean);
  const enums = new Set<string>();
  const parts: string[] = [];
  parts.push(`extend type User {\n${profiles.map(userField).join('\n')}\n}`);
  for (const profile of profiles) {
    parts.push(inputType(profile));
    parts.push(filterType(profile));
    for (const field of profile.fields) if (field.kind === 'enum') enums.add(field.graphqlType);
  }
  for (const name of enums) {
    parts.push(`"Conditions on a ${name} value."\ninput ${name}Filter {\n  eq: ${name}\n  ne: ${name}\n  in: [${name}!]\n  isNull: Boolean\n}`);
  }
  parts.push(
    `"Values for some or all installed profiles, keyed by profile name."\ninput ProfilesInput {\n${profiles
      .map((p) => `  ${p.name}: ${p.typeName}Input`)
      .join('\n')}\n}`,
  );
  parts.push(
    `extend input SignupInput {\n  "Initial values of profiles. Auto-created profiles not given here start with their defaults."\n  profiles: ProfilesInput\n}`,
  );
  parts.push(
    `extend input CreateUserInput {\n  "Initial values of profiles (readonly fields too; the privilege flags need \`auth.change_user\`, \`isSuperuser\` a superuser). Auto-created profiles not given here start with their defaults."\n  profiles: ProfilesInput\n}`,
  );
  parts.push(`extend input UserWhere {\n${profiles.map((p) => `  "Conditions on the ${p.name} profile."\n  ${p.name}: ${p.typeName}Filter`).join('\n')}\n}`);
  parts.push(`extend type Mutation {
  """
  Writes profile fields of the viewer (or, for staff, of \`userId\`) in one transaction; the
  fields given are set, others kept. Readonly fields only for staff. The owner changing the
  address password resets go to gives \`currentPassword\` unless the login is under 5 minutes
  old. Errors: \`UNAUTHENTICATED\`, \`FORBIDDEN\` (another user without staff; a readonly
  field without staff, its input path in \`extensions.fields\`, as \`setData\` and \`signup\`
  answer; \`reason: "CURRENT_PASSWORD_REQUIRED"\`), \`INVALID_CREDENTIALS\`, \`RATE_LIMITED\`,
  \`NOT_FOUND\`, \`BAD_USER_INPUT\` (per field).
  """
  updateProfiles(
    input: ProfilesInput!
    userId: ID
    "The viewer's current password: needed to change the address password resets go to, unless the login is fresh."
    currentPassword: String
  ): User
}`);
  return [...docs, parts.join('\n\n')];
}

function userField(p: ProfileDefinition): string {
  const doc = p.autoCreate ? `The ${p.name} profile.` : `The ${p.name} profile, null until it is first written.`;
  return `  ${JSON.stringify(doc)}\n  ${p.name}: ${p.typeName}${p.autoCreate ? '!' : ''}`;
}

function inputType(p: ProfileDefinition): string {
  const fields = p.fields.map((f) => {
    const notes = [
      f.description ?? '',
      f.readonly ? '(Staff only.)' : '',
      !f.nullable && f.defaultValue === undefined ? '(Required when the profile is created.)' : '',
    ]
      .filter(Boolean)
      .join(' ');
    return `${notes ? `  ${JSON.stringify(notes)}\n` : ''}  ${f.name}: ${f.graphqlType}`;
  });
  return `"Values of the ${p.name} profile; omitted fields are left as they are."\ninput ${p.typeName}Input {\n${fields.join('\n')}\n}`;
}

function filterType(p: ProfileDefinition): string {
  const fields = p.fields.map((f) => `  ${f.name}: ${filterTypeOf(f)}`);
  return `"Conditions on the ${p.name} profile (all must hold)."\ninput ${p.typeName}Filter {\n${fields.join('\n')}\n}`;
}
