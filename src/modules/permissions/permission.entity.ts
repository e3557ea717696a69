import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../users/user.entity.ts';

/**
 * Django's permission model (django.contrib.auth): permissions named `<app_label>.<codename>`,
 * groups carrying permissions, and users holding groups and direct permissions. Ids of
 * imported rows keep Django's ids.
 */
export const Permission = defineEntity({
  name: 'Permission',
  tableName: 'permissions',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    appLabel: p.string().length(100),
    codename: p.string().length(100),
    name: p.string().length(255),
  },
  uniques: [{ name: 'permissions_app_label_codename_unique', properties: ['appLabel', 'codename'] }],
});

export const Group = defineEntity({
  name: 'Group',
  tableName: 'groups',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    name: p.string().length(150).unique('groups_name_unique'),
  },
});

export const GroupPermission = defineEntity({
  name: 'GroupPermission',
  tableName: 'group_permissions',
  properties: {
    group: p.manyToOne(Group).primary().deleteRule('cascade'),
    permission: p.manyToOne(Permission).primary().deleteRule('cascade'),
  },
});

export const UserGroup = defineEntity({
  name: 'UserGroup',
  tableName: 'user_groups',
  properties: {
    user: p.manyToOne(User).primary().deleteRule('cascade'),
    group: p.manyToOne(Group).primary().deleteRule('cascade').index('user_groups_group_id_index'),
  },
});

export const UserPermission = defineEntity({
  name: 'UserPermission',
  tableName: 'user_permissions',
  properties: {
    user: p.manyToOne(User).primary().deleteRule('cascade'),
    permission: p.manyToOne(Permission).primary().deleteRule('cascade').index('user_permissions_permission_id_index'),
  },
});
