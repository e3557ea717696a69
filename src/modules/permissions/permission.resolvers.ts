import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import type { RequestScope } from '../../request.ts';
import type { AuditService } from '../events/audit.service.ts';
import { canSeePrivate, requireStaffPerm } from './access.ts';
import type { GroupRow } from './permission.loaders.ts';
import type { PermissionService } from './permission.service.ts';

/** A user's groups and permissions are private data: the user themself and staff read them. */
const inspect = async <T>(ctx: RequestScope, userId: string, read: () => Promise<T>): Promise<T | null> => ((await canSeePrivate(ctx, userId)) ? read() : null);

/** Resolvers of groups, permissions, the staff administration and the audit trail. */
export function permissionResolvers(services: { permissions: PermissionService; audit: AuditService }): Resolvers {
  const { permissions, audit } = services;
  return {
    User: {
      groups: (user, _args, ctx) => inspect(ctx, user.id, () => ctx.loaders.permissions.groups.load(user.id)),
      permissions: (user, _args, ctx) => inspect(ctx, user.id, () => ctx.loaders.permissions.permissionsOf(user.id)),
      hasPerm: (user, { perm }, ctx) => inspect(ctx, user.id, () => ctx.loaders.permissions.hasPerm(user.id, perm)),
    },
    Group: {
      permissions: (group: GroupRow, _args, ctx) => ctx.loaders.permissions.groupPermissions.load(group.id),
    },
    Query: {
      groups: async (_root, _args, ctx) => {
        await requireStaffPerm(ctx, 'auth.view_group');
        return ctx.em.execute<GroupRow[]>('select id::text as id, name from groups order by name');
      },
      permissionCatalog: async (_root, _args, ctx) => {
        await requireStaffPerm(ctx, 'auth.view_permission');
        return ctx.loaders.permissions.allPermissions();
      },
      auditEvents: async (_root, args, ctx) => {
        await requireStaffPerm(ctx, 'audit.view_auditevent');
        return audit.page(ctx.em, args);
      },
    },
    Mutation: {
      createPermission: (_root, args, ctx) => permissions.createPermission(ctx, args.key, args.name),
      createGroup: (_root, args, ctx) => permissions.createGroup(ctx, args.name, args.permissions ?? []),
      setGroupPermissions: (_root, args, ctx) => permissions.setGroupPermissions(ctx, args.groupId, args.permissions),
      deleteGroup: (_root, args, ctx) => permissions.deleteGroup(ctx, args.groupId),
      setUserGroups: (_root, args, ctx) => permissions.setUserGroups(ctx, args.userId, args.groupIds),
      setUserPermissions: (_root, args, ctx) => permissions.setUserPermissions(ctx, args.userId, args.permissions),
      setUserFlags: (_root, args, ctx) => permissions.setUserFlags(ctx, args.userId, args.flags),
    },
  };
}
