import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { Kind, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { DateResolver, DateTimeResolver, EmailAddressResolver, JSONResolver, URLResolver } from 'graphql-scalars';
import type { Resolvers } from './__generated__/resolvers-types.ts';
import { compositionResolvers, subgraphServiceResolvers } from './composition/resolvers.ts';
import { federationTypeDefs, stitching, stitchingTypeDefs } from './composition/sdl.ts';
import type { Config } from './config.ts';
import { authResolvers } from './modules/auth/auth.resolvers.ts';
import { permissionResolvers } from './modules/permissions/permission.resolvers.ts';
import { administrationResolvers } from './modules/administration/administration.resolvers.ts';
import { sessionResolvers } from './modules/sessions/session.resolvers.ts';
import { accountResolvers } from './modules/accounts/account.resolvers.ts';
import { webhookResolvers } from './modules/webhooks/webhook.resolvers.ts';
import { secondFactorResolvers } from './modules/second-factor/second-factor.resolvers.ts';
import { profileResolvers } from './modules/profiles/profile.resolvers.ts';
import { followCountColumns } from './modules/social/follow.loaders.ts';
import { followResolvers } from './modules/social/follow.resolvers.ts';
import { UserReadPlanner } from './modules/users/lookahead.ts';
import { userResolvers } from './modules/users/user.resolvers.ts';
import { loadProfileRegistry, type ProfileRegistry } from './profiles/registry.ts';
import { profileTypeDefs, withoutDefinitionLanguage } from './profiles/sdl.ts';
import type { RequestScope } from './request.ts';
import type { Services } from './services.ts';

/** Folder of the SDL files, the source of truth of the API. */
export const schemaDir = fileURLToPath(new URL('../schema', import.meta.url));

/** The SDL of every domain file directly in `schema/` (profiles live in `schema/profiles/`). */
export function loadTypeDefs(dir = schemaDir): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'));
}

/**
 * Names a profile may not take: the fields the domain SDL declares on `User`, and on
 * `UserWhere` (each profile also becomes a `UserWhere` field).
 */
export function staticUserFields(): string[] {
  const names = new Set<string>();
  for (const sdl of loadTypeDefs()) {
    for (const def of parse(sdl).definitions) {
      const isUser = (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) && def.name.value === 'User';
      const isWhere = (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION || def.kind === Kind.INPUT_OBJECT_TYPE_EXTENSION) && def.name.value === 'UserWhere';
      if (isUser || isWhere) for (const f of def.fields ?? []) names.add(f.name.value);
    }
  }
  return [...names];
}

/**
 * The profile registry of `config` (`PROFILES_DIR`, `PROFILES`), checked against the `User`
 * type: the composition root hands the engine the names a profile may not take. Throws
 * `ProfileDefinitionError` as {@link loadProfileRegistry} does.
 */
export function registryFromConfig(config: Config): Promise<ProfileRegistry> {
  return loadProfileRegistry({
    dir: config.profiles.dir,
    installed: config.profiles.installed,
    reservedUserFields: staticUserFields(),
    identifierMaxLength: config.accounts.identifierMaxLength,
  });
}

/** The services the resolvers call. */
export type ResolverServices = Pick<
  Services,
  | 'auth'
  | 'emailConfirmation'
  | 'passwordReset'
  | 'users'
  | 'follows'
  | 'permissions'
  | 'audit'
  | 'profiles'
  | 'deviceSessions'
  | 'accountDeletion'
  | 'accountExport'
  | 'administration'
  | 'webhooks'
  | 'secondFactor'
>;

const scalarResolvers: Resolvers = {
  DateTime: DateTimeResolver,
  Date: DateResolver,
  EmailAddress: EmailAddressResolver,
  URL: URLResolver,
  JSON: JSONResolver,
};

/**
 * The SDL of the API: the domain files in `schema/` and the SDL derived from the installed
 * profiles, without the profile definition language (`schema/profile-directives.graphql`:
 * `@profile`, `@private`, … are read by the engine, never served in introspection or `_sdl`).
 */
export function schemaTypeDefs(registry: ProfileRegistry): string[] {
  return [...loadTypeDefs().map(withoutDefinitionLanguage).filter(Boolean), ...profileTypeDefs(registry)];
}

/**
 * The stitching schema {@link buildSchema} serves, without resolvers (scalars only): what
 * `schema:print` prints, built with no database and no services.
 */
export function printableSchema(registry: ProfileRegistry): GraphQLSchema {
  return stitching.stitchingDirectivesValidator(
    makeExecutableSchema({ typeDefs: [...schemaTypeDefs(registry), ...stitchingTypeDefs()], resolvers: scalarResolvers as never }),
  );
}

/** How {@link buildSchema} shapes the schema for a gateway. */
export interface SchemaOptions {
  /**
   * Serve an Apollo Federation 2 subgraph (`buildSubgraphSchema`: `User @key(fields: "id")`,
   * `_service`, `_entities`) instead of the stitching schema. Default false.
   */
  federation?: boolean;
  /** Most ids `_usersByIds` (and representations `_entities`) take in one request; default 100 (`USERS_PAGE_MAX`). */
  maxKeys?: number;
}

/**
 * Builds the executable schema: the domain SDL files plus the SDL derived from the
 * installed profiles, merged with every module's resolvers, plus the composition fields of
 * SPEC §5 (`_sdl`, `_usersByIds`). By default `User` carries the stitching directives'
 * `@key(selectionSet: "{ id }")` and `_usersByIds` its `@merge`; with `federation` the same
 * types and resolvers become an Apollo Federation 2 subgraph whose `_sdl` still answers the
 * stitching SDL.
 */
export function buildSchema(registry: ProfileRegistry, services: ResolverServices, options: SchemaOptions = {}): GraphQLSchema {
  const federation = options.federation ?? false;
  const maxKeys = options.maxKeys ?? 100;
  const typeDefs = schemaTypeDefs(registry);
  // eslint-disable-next-line prefer-const -- set once the stitched schema exists; `_sdl` reads it later
  let sdl: string | undefined;
  // What a `User` selection reads beside the users (look-ahead): profiles, and the follow counts.
  const planner = new UserReadPlanner(registry, followCountColumns);
  const resolvers = [
    scalarResolvers,
    userResolvers(planner, services.users),
    authResolvers(services),
    followResolvers(services.follows, planner),
    permissionResolvers(services),
    administrationResolvers(services),
    sessionResolvers(services),
    accountResolvers(services),
    webhookResolvers(services),
    secondFactorResolvers(services),
    ...profileResolvers(registry, services.profiles),
    compositionResolvers(() => sdl!, federation, maxKeys, services.users, planner),
  ] as GraphQLResolverMap<RequestScope>[];

  // Built in both modes: it is the schema served by default, and `_sdl`'s text in federation
  // mode (the stitching `@key` cannot live in the subgraph beside federation's `@key`).
  const stitched = stitching.stitchingDirectivesValidator(
    makeExecutableSchema({ typeDefs: [...typeDefs, ...stitchingTypeDefs()], resolvers: resolvers as never }),
  );
  sdl = printSchemaWithDirectives(stitched);
  if (!federation) return stitched;

  // One module carries all the SDL; the others only add their resolver maps, in order.
  const empty: DocumentNode = { kind: Kind.DOCUMENT, definitions: [] };
  return buildSubgraphSchema(
    [...resolvers, subgraphServiceResolvers(maxKeys) as GraphQLResolverMap<RequestScope>].map((map, i) => ({
      typeDefs: i === 0 ? parse([...typeDefs, ...federationTypeDefs()].join('\n\n')) : empty,
      resolvers: map,
    })),
  );
}
