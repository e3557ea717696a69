import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from './__generated__/resolvers-types.ts';
import { authResolvers } from './modules/auth/auth.resolvers.ts';
import { userResolvers } from './modules/users/user.resolvers.ts';

/** Folder of the SDL files, the source of truth of the API. */
export const schemaDir = fileURLToPath(new URL('../schema', import.meta.url));

/** The SDL of every domain file directly in `schema/` (profiles live in `schema/profiles/`). */
export function loadTypeDefs(dir = schemaDir): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'));
}

const scalarResolvers: Resolvers = { DateTime: DateTimeResolver };

/** Builds the executable schema: SDL files merged with the resolvers of every module. */
export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: loadTypeDefs(),
    resolvers: [scalarResolvers, userResolvers, authResolvers] as never,
  });
}
