import type { Resolvers } from '../__generated__/resolvers-types.ts';
import type { RequestScope } from '../request.ts';
import type { UserEntity } from '../modules/users/user.entity.ts';

/**
 * Resolvers of the composition fields (SPEC §5): `_sdl` answers `sdl()` (the stitching SDL,
 * computed once at start-up), `_usersByIds` and (federation only) `User.__resolveReference` go
 * through the request's users DataLoader (one statement for all ids of a request).
 */
export function compositionResolvers(sdl: () => string, federation: boolean): Resolvers {
  const resolveReference = (ref: { id: string | number }, ctx: RequestScope): Promise<UserEntity | null> => ctx.loaders.users.load(String(ref.id));
  return {
    Query: {
      _sdl: () => sdl(),
      _usersByIds: (_root: unknown, { ids }: { ids: string[] }, ctx: RequestScope) => ctx.loaders.users.loadMany(ids),
    },
    // `__resolveReference` is Apollo Federation's, outside the generated resolver types.
    ...(federation ? ({ User: { __resolveReference: resolveReference } } as Resolvers) : {}),
  };
}
