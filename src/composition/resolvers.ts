import type { Context } from '../context.ts';

type Resolver = (parent: any, args: any, ctx: Context) => unknown;

/**
 * Resolvers of the composition fields (SPEC §5): `_sdl` answers `sdl()` (the stitching SDL,
 * computed once at start-up), `_usersByIds` and (federation only) `User.__resolveReference` go
 * through the request's users DataLoader (one statement for all ids of a request).
 */
export function compositionResolvers(sdl: () => string, federation: boolean): Record<string, Record<string, Resolver>> {
  return {
    Query: {
      _sdl: () => sdl(),
      _usersByIds: (_root, { ids }: { ids: string[] }, ctx) => ctx.users.loadMany(ids),
    },
    ...(federation ? { User: { __resolveReference: (ref: { id: string }, ctx) => ctx.users.load(String(ref.id)) } } : {}),
  };
}
