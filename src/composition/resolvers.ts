import DataLoader from 'dataloader';
import type { Context } from '../context.ts';
import { User, type UserEntity } from '../modules/users/user.entity.ts';

/** Largest batch of one statement; a longer list takes one statement per 1000 ids. */
const MAX_BATCH = 1000;

const loaders = new WeakMap<Context, DataLoader<string, UserEntity | null>>();

/**
 * The per-request DataLoader of users by id (kept beside the request's context, created on
 * first use): every `_usersByIds` id and every `_entities` reference of one request share one
 * `select … where id in (…)`. Ids that are not decimal bigints find nothing.
 */
export function usersById(ctx: Context): DataLoader<string, UserEntity | null> {
  let loader = loaders.get(ctx);
  if (!loader) {
    loader = new DataLoader(
      async (ids) => {
        const valid = ids.filter((id) => /^\d{1,19}$/.test(id));
        const rows = valid.length ? await ctx.em.find(User, { id: { $in: valid } }) : [];
        const byId = new Map(rows.map((u) => [u.id, u]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: MAX_BATCH },
    );
    loaders.set(ctx, loader);
  }
  return loader;
}

type Resolver = (parent: any, args: any, ctx: Context) => unknown;

/**
 * Resolvers of the composition fields (SPEC §5): `_sdl` answers `sdl()` (the stitching SDL,
 * computed once at start-up), `_usersByIds` and (federation only) `User.__resolveReference` go
 * through {@link usersById}.
 */
export function compositionResolvers(sdl: () => string, federation: boolean): Record<string, Record<string, Resolver>> {
  return {
    Query: {
      _sdl: () => sdl(),
      _usersByIds: (_root, { ids }: { ids: string[] }, ctx) => Promise.all(ids.map((id) => usersById(ctx).load(id))),
    },
    ...(federation ? { User: { __resolveReference: (ref: { id: string }, ctx) => usersById(ctx).load(String(ref.id)) } } : {}),
  };
}
