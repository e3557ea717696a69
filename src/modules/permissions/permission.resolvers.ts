import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import type { Context } from '../../context.ts';
import type { GroupRow } from './permission.loaders.ts';

const inspect = async <T>(ctx: Context, userId: string, read: () => Promise<T>): Promise<T | null> =>
  (await ctx.services.permissions.canInspect(ctx, userId)) ? read() : null;

export const permissionResolvers: Resolvers = {
  User: {
    groups: (user, _args, ctx) => inspect(ctx, user.id, () => ctx.permissions.groups.load(user.id)),
    permissions: (user, _args, ctx) => inspect(ctx, user.id, () => ctx.permissions.permissionsOf(user.id)),
    hasPerm: (user, { perm }, ctx) => inspect(ctx, user.id, () => ctx.permissions.hasPerm(user.id, perm)),
  },
  Group: {
    permissions: (group: GroupRow, _args, ctx) => ctx.permissions.groupPermissions.load(group.id),
  },
  Query: {
    groups: async (_root, _args, ctx) => {
      await ctx.services.permissions.requireStaffPerm(ctx, 'auth.view_group');
      return ctx.em.execute<GroupRow[]>('select id::text as id, name from groups order by name');
    },
    permissionCatalog: async (_root, _args, ctx) => {
      await ctx.services.permissions.requireStaffPerm(ctx, 'auth.view_permission');
      return ctx.permissions.allPermissions();
    },
    auditEvents: async (_root, args, ctx) => {
      await ctx.services.permissions.requireStaffPerm(ctx, 'audit.view_auditevent');
      return ctx.services.audit.page(ctx.em, args);
    },
  },
  Mutation: {
    createPermission: (_root, args, ctx) => ctx.services.permissions.createPermission(ctx, args.key, args.name),
    createGroup: (_root, args, ctx) => ctx.services.permissions.createGroup(ctx, args.name, args.permissions ?? []),
    setGroupPermissions: (_root, args, ctx) => ctx.services.permissions.setGroupPermissions(ctx, args.groupId, args.permissions),
    deleteGroup: (_root, args, ctx) => ctx.services.permissions.deleteGroup(ctx, args.groupId),
    setUserGroups: (_root, args, ctx) => ctx.services.permissions.setUserGroups(ctx, args.userId, args.groupIds),
    setUserPermissions: (_root, args, ctx) => ctx.services.permissions.setUserPermissions(ctx, args.userId, args.permissions),
    setUserFlags: (_root, args, ctx) => ctx.services.permissions.setUserFlags(ctx, args.userId, args.flags),
  },
};
