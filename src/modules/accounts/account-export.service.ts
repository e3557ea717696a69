import { appError, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { sql } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import { isUnusablePassword } from '../auth/password-hasher.ts';
import { requireStaffPerm } from '../permissions/access.ts';
import type { UserEntity } from '../users/user.entity.ts';
import type { UserService } from '../users/user.service.ts';

/** Version of the export document's shape; raised on any incompatible change. */
export const EXPORT_VERSION = 1;

/**
 * The export document (`exportMyData`, `exportUserData`), version {@link EXPORT_VERSION}. Times
 * are RFC 3339 UTC strings; ids are strings.
 */
export interface AccountExport {
  format: 'profilegraph.account-export';
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  account: { id: string; identifier: string; createdAt: string; hasUsablePassword: boolean };
  /** Every installed profile by name: its fields (private ones included), or null when the user has no row. */
  profiles: Record<string, Record<string, unknown> | null>;
  /** Follow relationships in both directions; `status` is `CONFIRMED` or `PENDING` (a follow request). */
  follows: {
    following: { userId: string; identifier: string; status: string; createdAt: string; confirmedAt: string | null }[];
    followers: { userId: string; identifier: string; status: string; createdAt: string; confirmedAt: string | null }[];
  };
  groups: string[];
  /** Permission keys the user holds, directly or through groups (`<app_label>.<codename>`). */
  permissions: string[];
  /** Live sessions (never a token). */
  sessions: { id: string; userAgent: string | null; address: string | null; createdAt: string; lastSeenAt: string; expiresAt: string }[];
  /** Audit events about the user (`subjectId` is the user), oldest first. */
  auditEvents: { id: string; type: string; at: string; actorId: string | null; clientAddress: string | null; data: unknown }[];
}

const iso = (value: unknown): string => new Date(value as string | Date).toISOString();
const isoOrNull = (value: unknown): string | null => (value == null ? null : iso(value));

/**
 * One JSON document with everything the service keeps about a user (the right of access and
 * portability): {@link AccountExport}. The owner exports their own (`exportMyData`); staff
 * holding `auth.view_user` export anyone's (`exportUserData`).
 */
export class AccountExportService {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly users: UserService,
  ) {}

  /** The viewer's own export. Errors: `UNAUTHENTICATED`. */
  async exportMine(scope: RequestScope): Promise<AccountExport> {
    return this.build(scope, requireViewer(scope).user);
  }

  /** Another user's export, for staff holding `auth.view_user`. Errors: `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`. */
  async exportUser(scope: RequestScope, userId: string): Promise<AccountExport> {
    await requireStaffPerm(scope, 'auth.view_user');
    const user = await this.users.findById(scope.em, parseId(userId, 'userId'));
    if (!user) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
    return this.build(scope, user);
  }

  private async build(scope: RequestScope, user: UserEntity): Promise<AccountExport> {
    const { em, loaders } = scope;
    const profiles: AccountExport['profiles'] = {};
    for (const profile of this.registry.profiles) {
      const row = await loaders.profiles.load(profile.name, user.id);
      profiles[profile.name] = row ? Object.fromEntries(profile.fields.map((f) => [f.name, row[f.name] ?? null])) : null;
    }
    const follows = await execute(
      em,
      sql`select f.follower_id, f.followee_id, f.status, f.created_at, f.confirmed_at, u.identifier
            from follows f join users u on u.id = case when f.follower_id = ${user.id} then f.followee_id else f.follower_id end
           where f.follower_id = ${user.id} or f.followee_id = ${user.id}
           order by f.created_at, f.id`,
    );
    const relation = (r: Record<string, unknown>, other: unknown) => ({
      userId: String(other),
      identifier: String(r.identifier),
      status: String(r.status).toUpperCase(),
      createdAt: iso(r.created_at),
      confirmedAt: isoOrNull(r.confirmed_at),
    });
    const events = await execute(
      em,
      sql`select id, type, actor_id, client_address, data, created_at from audit_events where subject_id = ${user.id} order by created_at, id`,
    );
    const [groups, permissions, sessions] = await Promise.all([
      loaders.permissions.groups.load(user.id),
      loaders.permissions.permissionsOf(user.id),
      loaders.sessions.load(user.id),
    ]);
    return {
      format: 'profilegraph.account-export',
      version: EXPORT_VERSION,
      exportedAt: scope.clock.now().toISOString(),
      account: { id: user.id, identifier: user.identifier, createdAt: iso(user.createdAt), hasUsablePassword: !isUnusablePassword(user.password) },
      profiles,
      follows: {
        following: follows.filter((r) => String(r.follower_id) === user.id).map((r) => relation(r, r.followee_id)),
        followers: follows.filter((r) => String(r.followee_id) === user.id).map((r) => relation(r, r.follower_id)),
      },
      groups: groups.map((g) => g.name),
      permissions: [...permissions].sort(),
      sessions: sessions.map((s) => ({
        id: s.id,
        userAgent: s.userAgent,
        address: s.address,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
      })),
      auditEvents: events.map((e) => ({
        id: String(e.id),
        type: String(e.type),
        at: iso(e.created_at),
        actorId: e.actor_id == null ? null : String(e.actor_id as string | number),
        clientAddress: (e.client_address as string | null) ?? null,
        data: e.data,
      })),
    };
  }
}
