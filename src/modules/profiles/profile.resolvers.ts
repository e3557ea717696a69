import type { GraphQLFieldResolver } from 'graphql';
import type { ProfileCatalog, Resolvers } from '../../__generated__/resolvers-types.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import type { ProfileRow } from '../../profiles/store.ts';
import type { RequestScope } from '../../request.ts';
import { mayUseField } from '../permissions/access.ts';
import type { ProfilesInput } from './profile.writer.ts';
import type { ProfileService } from './profile.service.ts';

/** A resolver of a field derived from a profile (`User.<profile>`, a private profile field): typed by the engine, not codegen. */
type DerivedResolver<Parent> = GraphQLFieldResolver<Parent, RequestScope>;

/**
 * Resolvers of the profiles: `User.<profile>` through the per-request DataLoader, private
 * fields nulled for other viewers, the data bag (`data`, `dataAll`, `setData`), the
 * `profiles` catalog and `updateProfiles`. Thin: rules live in ProfileService and ProfileRegistry.
 */
export function profileResolvers(registry: ProfileRegistry, profiles: ProfileService): Resolvers[] {
  const typed: Resolvers = {
    User: {
      data: async (user, { key }, ctx) => {
        const resolved = registry.resolveForRead(key);
        const row = await ctx.loaders.profiles.load(resolved.profile.name, user.id);
        if (!(await mayUseField(ctx, resolved.field, user.id))) return null;
        return row?.[resolved.field.name] ?? null;
      },
      dataAll: async (user, { key }, ctx) => {
        const candidates = registry.candidates(key);
        return Promise.all(
          candidates.map(async (c) => {
            const row = await ctx.loaders.profiles.load(c.profile.name, user.id);
            const visible = await mayUseField(ctx, c.field, user.id);
            return { profile: c.profile.name, key: c.qualifiedKey, value: visible ? (row?.[c.field.name] ?? null) : null };
          }),
        );
      },
    },
    Query: {
      profiles: () => catalog(registry),
    },
    Mutation: {
      setData: (_root, args, ctx) => profiles.setData(ctx, args.key, args.value, args.userId, args.currentPassword),
    },
  };

  // Fields derived from the installed profiles: their names exist only at run time.
  const user: Record<string, DerivedResolver<{ id: string }>> = {};
  const types: Record<string, Record<string, DerivedResolver<ProfileRow>>> = {};
  for (const profile of registry.profiles) {
    user[profile.name] = (u, _args, ctx) => ctx.loaders.profiles.load(profile.name, u.id);
    const fields: Record<string, DerivedResolver<ProfileRow>> = {};
    for (const field of profile.fields.filter((f) => f.private)) {
      fields[field.name] = async (row, _args, ctx) => ((await mayUseField(ctx, field, row.userId)) ? row[field.name] : null);
    }
    if (Object.keys(fields).length) types[profile.typeName] = fields;
  }
  const derived: Record<string, Record<string, unknown>> = { ...types, User: user };
  if (registry.profiles.length) {
    const updateProfiles: DerivedResolver<unknown> = (_root, args: { input: ProfilesInput; userId?: string | null; currentPassword?: string | null }, ctx) =>
      profiles.update(ctx, args.input, args.userId, args.currentPassword);
    derived.Mutation = { updateProfiles };
  }
  return [typed, derived as Resolvers];
}

/** The `profiles` query: installed profiles in precedence order, their fields, and overlapping keys. */
function catalog(registry: ProfileRegistry): ProfileCatalog {
  return {
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
}
