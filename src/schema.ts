import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { Kind, parse, type GraphQLSchema } from 'graphql';
import { DateResolver, DateTimeResolver, EmailAddressResolver, JSONResolver, URLResolver } from 'graphql-scalars';
import type { Resolvers } from './__generated__/resolvers-types.ts';
import { authResolvers } from './modules/auth/auth.resolvers.ts';
import { userResolvers } from './modules/users/user.resolvers.ts';
import { followResolvers } from './modules/social/follow.resolvers.ts';
import { permissionResolvers } from './modules/permissions/permission.resolvers.ts';
import { profileResolvers } from './profiles/profile.resolvers.ts';
import type { ProfileRegistry } from './profiles/registry.ts';
import { profileTypeDefs } from './profiles/sdl.ts';

/** Folder of the SDL files, the source of truth of the API. */
export const schemaDir = fileURLToPath(new URL('../schema', import.meta.url));

/** The SDL of every domain file directly in `schema/` (profiles live in `schema/profiles/`). */
export function loadTypeDefs(dir = schemaDir): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'));
}

/** Names of the `User` fields the domain SDL declares; a profile may not take one. */
export function staticUserFields(): string[] {
  const names: string[] = [];
  for (const sdl of loadTypeDefs()) {
    for (const def of parse(sdl).definitions) {
      if ((def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) && def.name.value === 'User') {
        names.push(...(def.fields ?? []).map((f) => f.name.value));
      }
    }
  }
  return names;
}

const scalarResolvers: Resolvers = {
  DateTime: DateTimeResolver,
  Date: DateResolver,
  EmailAddress: EmailAddressResolver,
  URL: URLResolver,
  JSON: JSONResolver,
};

/**
 * Builds the executable schema: the domain SDL files plus the SDL derived from the
 * installed profiles, merged with every module's resolvers.
 */
export function buildSchema(registry: ProfileRegistry): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: [...loadTypeDefs(), ...profileTypeDefs(registry)],
    resolvers: [scalarResolvers, userResolvers, authResolvers, followResolvers, permissionResolvers, profileResolvers(registry)] as never,
  });
}
