import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProfileLoaders } from '../../profiles/loaders.ts';
import { sql, valueList } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import type { CoreKeys } from '../profiles/core-keys.ts';

/** A group as the API shows it. */
export interface GroupRow {
  id: string;
  name: string;
}

/** A permission row; `key` is Django's `<app_label>.<codename>`. */
export interface PermissionRow {
  id: string;
  key: string;
  appLabel: string;
  codename: string;
  name: string;
}

/** The account flags Django's permission checks depend on (core keys `isActive`, `isStaff`, `isSuperuser`). */
export interface AccountFlags {
  active: boolean;
  staff: boolean;
  superuser: boolean;
}

const permissionColumns = sql`p.id, p.app_label || '.' || p.codename as key, p.app_label as "appLabel", p.codename, p.name`;

/**
 * Per-request DataLoaders of groups, granted permissions and account flags, and the
 * permission checks built on them. The checks follow Django's `ModelBackend`: an inactive user
 * holds no permission, an active superuser holds every permission, anyone else holds their
 * own permissions plus those of their groups.
 */
export class PermissionLoaders {
  constructor(
    private readonly em: EntityManager,
    private readonly profiles: ProfileLoaders,
    private readonly coreKeys: CoreKeys,
  ) {}

  readonly groups = new DataLoader<string, GroupRow[]>(async (ids) => {
    const rows = await execute<{ user_id: string; id: string; name: string }[]>(
      this.em,
      sql`select ug.user_id, g.id, g.name from user_groups ug join groups g on g.id = ug.group_id
        where ug.user_id in ${valueList(ids)} order by g.name`,
    );
    return ids.map((id) => rows.filter((r) => String(r.user_id) === id).map((r) => ({ id: String(r.id), name: r.name })));
  });

  /** Permission keys granted directly or through groups (without the superuser rule). */
  readonly granted = new DataLoader<string, Set<string>>(async (ids) => {
    const rows = await execute<{ user_id: string; key: string }[]>(
      this.em,
      sql`select up.user_id, p.app_label || '.' || p.codename as key
         from user_permissions up join permissions p on p.id = up.permission_id where up.user_id in ${valueList(ids)}
       union
       select ug.user_id, p.app_label || '.' || p.codename
         from user_groups ug join group_permissions gp on gp.group_id = ug.group_id join permissions p on p.id = gp.permission_id
        where ug.user_id in ${valueList(ids)}`,
    );
    return ids.map((id) => new Set(rows.filter((r) => String(r.user_id) === id).map((r) => r.key)));
  });

  readonly groupPermissions = new DataLoader<string, PermissionRow[]>(async (ids) => {
    const rows = await execute<(PermissionRow & { group_id: string })[]>(
      this.em,
      sql`select gp.group_id, ${permissionColumns} from group_permissions gp join permissions p on p.id = gp.permission_id
        where gp.group_id in ${valueList(ids)} order by key`,
    );
    return ids.map((id) => rows.filter((r) => String(r.group_id) === id).map(({ group_id: _g, ...p }) => ({ ...p, id: String(p.id) })));
  });

  private catalog: Promise<PermissionRow[]> | undefined;

  /** Every permission, sorted by key (what a superuser holds). One statement per request. */
  allPermissions(): Promise<PermissionRow[]> {
    this.catalog ??= execute<PermissionRow[]>(this.em, sql`select ${permissionColumns} from permissions p order by key`).then((rows) =>
      rows.map((r) => ({ ...r, id: String(r.id) })),
    );
    return this.catalog;
  }

  /** The core keys `isActive` (absent → true), `isStaff`, `isSuperuser` (absent → false) of `userId`, batched. */
  async flags(userId: string): Promise<AccountFlags> {
    const [active, staff, superuser] = await Promise.all([
      this.coreKeys.load(this.profiles, userId, 'isActive'),
      this.coreKeys.load(this.profiles, userId, 'isStaff'),
      this.coreKeys.load(this.profiles, userId, 'isSuperuser'),
    ]);
    return { active, staff, superuser };
  }

  /** Every permission key `userId` holds, sorted (Django's `get_all_permissions`). */
  async permissionsOf(userId: string): Promise<string[]> {
    const flags = await this.flags(userId);
    if (!flags.active) return [];
    if (flags.superuser) return (await this.allPermissions()).map((p) => p.key);
    return [...(await this.granted.load(userId))].sort();
  }

  /** Django's `has_perm`: `perm` is `<app_label>.<codename>`. */
  async hasPerm(userId: string, perm: string): Promise<boolean> {
    const flags = await this.flags(userId);
    if (!flags.active) return false;
    if (flags.superuser) return true;
    return (await this.granted.load(userId)).has(perm);
  }

  /** Forgets cached grants of `userId` after a change in this request. */
  clear(userId: string): void {
    this.groups.clear(userId);
    this.granted.clear(userId);
    this.profiles.clear(userId);
    this.catalog = undefined;
  }
}
