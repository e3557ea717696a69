import { appError, ErrorCode } from '../../errors.ts';
import { requireViewer, type RequestScope } from '../../request.ts';

type Scope = Pick<RequestScope, 'viewer' | 'loaders'>;

const staffByScope = new WeakMap<object, Promise<boolean>>();

/**
 * The one staff test: the viewer is an active account whose `isStaff` or `isSuperuser` core
 * key is true (no profile holding them means nobody is staff). Memoised per request.
 */
export function viewerIsStaff(scope: Scope): Promise<boolean> {
  let staff = staffByScope.get(scope);
  if (!staff) {
    const viewer = scope.viewer;
    staff = viewer ? scope.loaders.permissions.flags(viewer.user.id).then((f) => f.active && (f.staff || f.superuser)) : Promise.resolve(false);
    staffByScope.set(scope, staff);
  }
  return staff;
}

/**
 * The read-access rule of a user's private data (private profile fields, groups and
 * permissions): the user themself and staff may read it; everyone else sees null.
 */
export async function canSeePrivate(scope: Scope, ownerId: string): Promise<boolean> {
  if (scope.viewer?.user.id === ownerId) return true;
  return viewerIsStaff(scope);
}

/**
 * Throws unless the viewer is active staff holding `perm` (superusers hold all, Django's
 * `has_perm`). Errors: `UNAUTHENTICATED`, `FORBIDDEN` (with `extensions.permission`).
 */
export async function requireStaffPerm(scope: Scope, perm: string): Promise<void> {
  const viewer = requireViewer(scope);
  if (!(await viewerIsStaff(scope)) || !(await scope.loaders.permissions.hasPerm(viewer.user.id, perm))) {
    throw appError(ErrorCode.FORBIDDEN, `This needs staff status and the permission "${perm}".`, { permission: perm });
  }
}

/** The one superuser guard: throws `FORBIDDEN` (naming `what`) unless the viewer is an active superuser. */
export async function requireSuperuser(scope: Scope, what: string): Promise<void> {
  const viewer = requireViewer(scope);
  const flags = await scope.loaders.permissions.flags(viewer.user.id);
  if (!flags.active || !flags.superuser) throw appError(ErrorCode.FORBIDDEN, `Only a superuser may ${what}.`);
}
