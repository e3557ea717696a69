import { stitchingDirectives } from '@graphql-tools/stitching-directives';

/**
 * The `@graphql-tools/stitching-directives` set (`@key`, `@computed`, `@merge`, `@canonical`)
 * under their default names, as SPEC §5 prescribes for `_sdl`.
 */
export const stitching = stitchingDirectives();

/** Root fields every mode serves, so a gateway can consume this service (SPEC §5). */
const compositionFields = (mergeDirective: string) => /* GraphQL */ `
extend type Query {
  """
  The SDL of this service's schema for schema stitching, with the
  \`@graphql-tools/stitching-directives\` (\`User @key(selectionSet: "{ id }")\`, merged through
  \`_usersByIds\`). Readable even when introspection is off. In federation mode it is the same
  schema without the federation elements (\`_service\`, \`_entities\`), which a stitching
  gateway does not need.
  """
  _sdl: String!
  """
  Users by id for a gateway's merged \`User\`: one database statement for the whole list,
  answered in the order of \`ids\`, with null for an id that names no user. At most
  \`USERS_PAGE_MAX\` (100) ids a request, else \`BAD_USER_INPUT\`; the query cost counts
  each id like one user of a page.
  """
  _usersByIds(ids: [ID!]!): [User]!${mergeDirective}
}
`;

/** Extra type definitions of the stitching schema (the default mode). */
export function stitchingTypeDefs(): string[] {
  return [stitching.allStitchingDirectivesTypeDefs, compositionFields(' @merge(keyField: "id")'), `extend type User @key(selectionSet: "{ id }")`];
}

/**
 * Extra type definitions of the Apollo Federation 2 subgraph schema: `User` is an entity keyed
 * by `id`. The stitching directives are left out: their `@key(selectionSet:)` and
 * federation's `@key(fields:)` cannot share one name in one schema.
 */
export function federationTypeDefs(): string[] {
  return [
    `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])`,
    compositionFields(''),
    `extend type User @key(fields: "id")`,
  ];
}
