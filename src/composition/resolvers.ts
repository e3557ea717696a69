import type { Resolvers } from '../__generated__/resolvers-types.ts';
import { appError, ErrorCode } from '../errors.ts';
import type { RequestScope } from '../request.ts';
import type { UserEntity } from '../modules/users/user.entity.ts';

/**
 * Refuses the composition SDL to a request not allowed to read it (`scope.composition`: on
 * while introspection is on, else only with the gateway's `x-composition-token`). Errors: `FORBIDDEN`.
 */
export function requireComposition(scope: Pick<RequestScope, 'composition'>): void {
  if (!scope.composition) throw appError(ErrorCode.FORBIDDEN, 'The schema is available to gateways only: send the composition token.');
}

/**
 * Resolvers of the composition fields (SPEC §5): `_sdl` answers `sdl()` (the stitching SDL,
 * computed once at start-up) to requests allowed to read it ({@link requireComposition});
 * `_usersByIds` and (federation only) `User.__resolveReference` go
 * through the request's users DataLoader (one statement for all ids of a request).
 */
export function compositionResolvers(sdl: () => string, federation: boolean): Resolvers {
  const resolveReference = (ref: { id: string | number }, ctx: RequestScope): Promise<UserEntity | null> => ctx.loaders.users.load(String(ref.id));
  return {
    Query: {
      _sdl: (_root: unknown, _args: unknown, ctx: RequestScope) => {
        requireComposition(ctx);
        return sdl();
      },
      _usersByIds: (_root: unknown, { ids }: { ids: string[] }, ctx: RequestScope) => ctx.loaders.users.loadMany(ids),
    },
    // `__resolveReference` is Apollo Federation's, outside the generated resolver types.
    ...(federation ? ({ User: { __resolveReference: resolveReference } } as Resolvers) : {}),
  };
}

/**
 * Federation's `_Service.sdl`, guarded like `_sdl` ({@link requireComposition}). Only for
 * `buildSubgraphSchema`, which adds the modules' resolvers after its own, so this one replaces
 * its unguarded `sdl`; the type exists in the subgraph schema only.
 */
export function subgraphServiceResolvers(): Record<string, unknown> {
  return {
    _Service: {
      sdl: (service: { sdl: string }, _args: unknown, ctx: RequestScope) => {
        requireComposition(ctx);
        return service.sdl;
      },
    },
  };
}
