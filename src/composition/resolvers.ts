import { entitiesResolver } from '@apollo/subgraph';
import type { GraphQLResolveInfo } from 'graphql';
import type { Resolvers } from '../__generated__/resolvers-types.ts';
import { appError, ErrorCode } from '../errors.ts';
import type { RequestScope } from '../request.ts';
import DataLoader from 'dataloader';
import { planKey, type UserReadPlanner } from '../modules/users/lookahead.ts';
import type { UserEntity } from '../modules/users/user.entity.ts';
import type { UserService } from '../modules/users/user.service.ts';

/**
 * Refuses the composition SDL to a request not allowed to read it (`scope.composition`: on
 * while introspection is on, else only with the gateway's `x-composition-token`). Errors: `FORBIDDEN`.
 */
export function requireComposition(scope: Pick<RequestScope, 'composition'>): void {
  if (!scope.composition) throw appError(ErrorCode.FORBIDDEN, 'The schema is available to gateways only: send the composition token.');
}

/**
 * Refuses a batch of more than `maxKeys` keys (ids of `_usersByIds`, representations of
 * `_entities`): one request may fetch at most a page of users. Errors: `BAD_USER_INPUT`.
 */
export function requireKeyCount(count: number, maxKeys: number, argument: string): void {
  if (count > maxKeys) throw appError(ErrorCode.BAD_USER_INPUT, `At most ${maxKeys} ${argument} per request, got ${count}.`, { fields: [argument] });
}

/**
 * Resolvers of the composition fields (SPEC §5): `_sdl` answers `sdl()` (the stitching SDL,
 * computed once at start-up) to requests allowed to read it ({@link requireComposition});
 * `_usersByIds` and (federation only) `User.__resolveReference` read their users with the
 * profiles and columns the selection uses in one statement for all ids of a request
 * (look-ahead, `planner`), at most `maxKeys` ids a request ({@link requireKeyCount}).
 */
export function compositionResolvers(sdl: () => string, federation: boolean, maxKeys: number, users: UserService, planner: UserReadPlanner): Resolvers {
  // Federation resolves each representation on its own: one DataLoader per request and plan batches them.
  const referenceLoaders = new WeakMap<RequestScope, Map<string, DataLoader<string, UserEntity | null>>>();
  const resolveReference = (ref: { id: string | number }, ctx: RequestScope, info: GraphQLResolveInfo): Promise<UserEntity | null> => {
    const plan = planner.plan(info);
    const key = planKey(plan);
    let byPlan = referenceLoaders.get(ctx);
    if (!byPlan) referenceLoaders.set(ctx, (byPlan = new Map<string, DataLoader<string, UserEntity | null>>()));
    let loader = byPlan.get(key);
    if (!loader) {
      loader = new DataLoader((ids: readonly string[]) => users.findManyById(ctx.em, ids, { plan, loaders: ctx.loaders }), { maxBatchSize: 1000 });
      byPlan.set(key, loader);
    }
    return loader.load(String(ref.id));
  };
  return {
    Query: {
      _sdl: (_root: unknown, _args: unknown, ctx: RequestScope) => {
        requireComposition(ctx);
        return sdl();
      },
      _usersByIds: (_root: unknown, { ids }: { ids: string[] }, ctx: RequestScope, info: GraphQLResolveInfo) => {
        requireKeyCount(ids.length, maxKeys, 'ids');
        return users.findManyById(ctx.em, ids, { plan: planner.plan(info), loaders: ctx.loaders });
      },
    },
    // `__resolveReference` is Apollo Federation's, outside the generated resolver types.
    ...(federation ? ({ User: { __resolveReference: resolveReference } } as Resolvers) : {}),
  };
}

/**
 * Federation's `_Service.sdl`, guarded like `_sdl` ({@link requireComposition}), and
 * `_entities`, capped at `maxKeys` representations ({@link requireKeyCount}) before
 * `@apollo/subgraph`'s own resolution. Only for `buildSubgraphSchema`, which adds the modules'
 * resolvers after its own, so these replace its unguarded ones; the types exist in the
 * subgraph schema only.
 */
export function subgraphServiceResolvers(maxKeys: number): Record<string, unknown> {
  return {
    Query: {
      _entities: (_root: unknown, { representations }: { representations: unknown[] }, ctx: RequestScope, info: GraphQLResolveInfo): unknown => {
        requireKeyCount(representations.length, maxKeys, 'representations');
        return entitiesResolver({ representations: representations as never, context: ctx, info });
      },
    },
    _Service: {
      sdl: (service: { sdl: string }, _args: unknown, ctx: RequestScope) => {
        requireComposition(ctx);
        return service.sdl;
      },
    },
  };
}
