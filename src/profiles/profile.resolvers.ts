import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.ts';
import type { UserEntity } from '../modules/users/user.entity.ts';
import { canSeePrivate } from './access.ts';
import type { ProfilesInput } from './profile.service.ts';
import type { ProfileRegistry } from './registry.ts';
import type { ProfileRow } from './store.ts';
import type { UserOrder, UserWhere } from './user-query.ts';
import { profilesRead } from './lookahead.ts';

type Resolver = (parent: any, args: any, ctx: Context, info: GraphQLResolveInfo) => unknown;
type ResolverMap = Record<string, Record<string, Resolver>>;

/**
 * Resolvers derived from the installed profiles: `User.<profile>` through the per-request
 * DataLoader, private fields nulled for other viewers, the data bag, the `users`
 * connection, the `profiles` catalog, and the profile mutations. Thin: rules live in
 * ProfileService, UserService and ProfileRegistry.
 */
export function profileResolvers(registry: ProfileRegistry): ResolverMap {
  const user: Record<string, Resolver> = {
    data: async (u: UserEntity, { key }: { key: string }, ctx) => {
      const resolved = registry.resolveForRead(key);
      const row = await ctx.loaders.load(resolved.profile.name, u.id);
      if (resolved.field.private && !(await canSeePrivate(ctx, u.id))) return null;
      return row?.[resolved.field.name] ?? null;
    },
    dataAll: async (u: UserEntity, { key }: { key: string }, ctx) => {
      const candidates = registry.candidates(key);
      const visible = candidates.some((c) => c.field.private) ? await canSeePrivate(ctx, u.id) : true;
      return Promise.all(
        candidates.map(async (c) => {
          const row = await ctx.loaders.load(c.profile.name, u.id);
          return { profile: c.profile.name, key: c.qualifiedKey, value: c.field.private && !visible ? null : (row?.[c.field.name] ?? null) };
        }),
      );
    },
  };
  const types: ResolverMap = {};
  for (const profile of registry.profiles) {
    user[profile.name] = (u: UserEntity, _args, ctx) => ctx.loaders.load(profile.name, u.id);
    const fields: Record<string, Resolver> = {};
    for (const field of profile.fields.filter((f) => f.private)) {
      fields[field.name] = async (row: ProfileRow, _args, ctx) => ((await canSeePrivate(ctx, row.userId)) ? row[field.name] : null);
    }
    if (Object.keys(fields).length) types[profile.typeName] = fields;
  }

  const catalog = {
    installed: registry.profiles.map((p, i) => ({
      name: p.name,
      typeName: p.typeName,
      order: i + 1,
      precedence: p.precedence,
      autoCreate: p.autoCreate,
      description: p.description ?? null,
      fields: p.fields.map((f) => ({
        name: f.name,
        key: `${p.name}.${f.name}`,
        type: `${f.graphqlType}${f.nullable ? '' : '!'}`,
        default: f.defaultValue ?? null,
        unique: f.unique,
        private: f.private,
        readonly: f.readonly,
        description: f.description ?? null,
      })),
    })),
    overlaps: registry.overlaps(),
  };

  const mutations: Record<string, Resolver> = {
    setData: (_root, args: { key: string; value: unknown; userId?: string | null }, ctx) =>
      ctx.services.profiles.setData(ctx, args.key, args.value, args.userId),
  };
  if (registry.profiles.length) {
    mutations.updateProfiles = (_root, args: { input: ProfilesInput; userId?: string | null }, ctx) =>
      ctx.services.profiles.update(ctx, args.input, args.userId);
  }

  return {
    ...types,
    User: user,
    Query: {
      profiles: () => catalog,
      users: (_root, args: { first?: number | null; after?: string | null; where?: UserWhere | null; orderBy?: UserOrder[] | null }, ctx, info) =>
        ctx.services.users.page(ctx.em, args, wantsTotalCount(info), {
          profiles: profilesRead(registry, info, ['UserConnection.edges', 'UserEdge.node']),
          loaders: ctx.loaders,
        }),
    },
    Mutation: mutations,
  };
}

/** Whether the selection of a `users` field asks for `totalCount` (the count costs a statement). */
function wantsTotalCount(info: GraphQLResolveInfo): boolean {
  const seen = new Set<string>();
  const visit = (selections: readonly any[]): boolean =>
    selections.some((s) => {
      if (s.kind === 'Field') return s.name.value === 'totalCount';
      if (s.kind === 'InlineFragment') return visit(s.selectionSet.selections);
      if (s.kind === 'FragmentSpread' && !seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = info.fragments[s.name.value];
        return fragment ? visit(fragment.selectionSet.selections) : false;
      }
      return false;
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet?.selections ?? []));
}
