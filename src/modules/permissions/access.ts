import { appError, ErrorCode } from '../../errors.ts';
import type { ProfileField } from '../../profiles/model.ts';
import { requireViewer, type RequestScope } from '../../request.ts';

type Scope = Pick<RequestScope, 'viewer' | 'loaders'> & Partial<Pick<RequestScope, 'sessionIssuedTo' | 'staffRequiresAal2'>>;

const staffByScope = new WeakMap<object, Promise<boolean>>();

/** Whether the viewer's account is active staff (or superuser), whatever its session. Memoised per request. */
function accountIsStaff(scope: Scope): Promise<boolean> {
  let staff = staffByScope.get(scope);
  if (!staff) {
    const viewer = scope.viewer;
    staff = viewer ? scope.loaders.permissions.flags(viewer.user.id).then((f) => f.active && (f.staff || f.superuser)) : Promise.resolve(false);
    staffByScope.set(scope, staff);
  }
  return staff;
}

/** Whether `STAFF_REQUIRE_AAL2` holds the viewer's session back from staff powers (a trusted-header sign-in is exempt). */
function lacksRequiredAal2(scope: Scope): boolean {
  return Boolean(scope.staffRequiresAal2) && scope.viewer?.id !== null && scope.viewer?.assuranceLevel !== 'aal2';
}

/**
 * The one staff test: the viewer is an active account whose `isStaff` or `isSuperuser` core
 * key is true (no profile holding them means nobody is staff), and, with `STAFF_REQUIRE_AAL2`,
 * signed in with a second factor — otherwise it reads and writes as any user would. Memoised
 * per request.
 */
export async function viewerIsStaff(scope: Scope): Promise<boolean> {
  return (await accountIsStaff(scope)) && !lacksRequiredAal2(scope);
}

/**
 * **The one access decision for a user's fields** (SPEC §8, "one access rule for every path"):
 * whether the viewer may use `field` — read it, filter on it, sort by it, count by it.
 *
 * - `ownerId` is the user whose value is used: a read of one user's field (`User.<profile>`
 *   fields, `data`, `dataAll`). `null` means a use across users: a condition or sort key of a
 *   list (`users(where:, orderBy:)`, hence its `totalCount` and cursors), which reads every
 *   listed user's value, so being one of them exempts nobody.
 * - Non-private fields: everyone. `@private` fields: the owner (reads only) and staff
 *   ({@link viewerIsStaff}). A user this request just issued a session to (`signup`, `login`:
 *   `RequestScope.sessionIssuedTo`) counts as the owner of its own reads, so the payload's
 *   `user` shows what the new session would.
 *
 * Costs no statement for a non-private field, the owner or an anonymous viewer; otherwise at
 * most the request's batched, memoised account-flags load.
 */
export async function mayUseField(scope: Scope, field: Pick<ProfileField, 'private'>, ownerId: string | null): Promise<boolean> {
  if (!field.private) return true;
  if (ownerId !== null && scope.sessionIssuedTo?.has(ownerId)) return true;
  if (!scope.viewer) return false;
  if (ownerId !== null && scope.viewer.user.id === ownerId) return true;
  return viewerIsStaff(scope);
}

/**
 * The read-access rule of a user's private data (private profile fields, groups and
 * permissions): the user themself and staff may read it; everyone else sees null.
 * {@link mayUseField} for a private field read of `ownerId`.
 */
export function canSeePrivate(scope: Scope, ownerId: string): Promise<boolean> {
  return mayUseField(scope, { private: true }, ownerId);
}

/** What a user list's conditions and sort keys use that access governs, each with its input path. */
export interface ListUses {
  /** Profile fields named by a condition (`where.mail.email`, `where.data[0]`) or a sort key (`orderBy[0].field`). */
  fields: { path: string; field: Pick<ProfileField, 'private'> }[];
  /** Relationship conditions (`follows`/`followedBy: userId` with `followStatus`, path of the status or the relationship). */
  relationships: { path: string; userId: string; status: 'CONFIRMED' | 'PENDING' | 'NONE' }[];
}

/**
 * Throws `FORBIDDEN`, with every offending input path in `extensions.fields`, unless the viewer
 * may use all of `uses` in a list:
 * - each field by {@link mayUseField} across users (`@private` fields: staff only);
 * - a relationship of status `PENDING` only about the viewer (`follows: <viewer>` lists who asked
 *   to follow the viewer, `followedBy: <viewer>` whom the viewer asked), staff included, as
 *   `followRequests` is the followee's alone. `NONE` likewise: all users minus `CONFIRMED` minus
 *   `NONE` would be the pending ones. `CONFIRMED` follows are public.
 *
 * No statement for an anonymous viewer or when no private field is used; else the memoised
 * staff test.
 */
export async function requireListAccess(scope: Scope, uses: ListUses): Promise<void> {
  const denied: Record<string, string> = {};
  for (const { path, field } of uses.fields) {
    if (!(await mayUseField(scope, field, null))) denied[path] = 'This field is private: only staff may filter or sort users by it.';
  }
  for (const { path, userId, status } of uses.relationships) {
    if (status !== 'CONFIRMED' && scope.viewer?.user.id !== userId) {
      denied[path] = `Only the user itself may list users by a ${status} follow relationship to it.`;
    }
  }
  if (Object.keys(denied).length) throw appError(ErrorCode.FORBIDDEN, 'This list uses data you may not read.', { fields: denied });
}

/**
 * Throws unless the viewer is active staff holding `perm` (superusers hold all, Django's
 * `has_perm`), and, with `STAFF_REQUIRE_AAL2`, signed in with a second factor. Errors:
 * `UNAUTHENTICATED`, `FORBIDDEN` (with `extensions.permission`, or `reason: "AAL2_REQUIRED"`).
 */
export async function requireStaffPerm(scope: Scope, perm: string): Promise<void> {
  const viewer = requireViewer(scope);
  if (!(await accountIsStaff(scope)) || !(await scope.loaders.permissions.hasPerm(viewer.user.id, perm))) {
    throw appError(ErrorCode.FORBIDDEN, `This needs staff status and the permission "${perm}".`, { permission: perm });
  }
  requireAal2(scope);
}

/**
 * With `STAFF_REQUIRE_AAL2`, staff operations need a session opened with a second factor.
 * Errors: `FORBIDDEN` with `extensions.reason: "AAL2_REQUIRED"`.
 */
function requireAal2(scope: Scope): void {
  if (lacksRequiredAal2(scope)) {
    throw appError(ErrorCode.FORBIDDEN, 'Staff operations need a login with a second factor (AAL2): enable TOTP and log in again.', {
      reason: 'AAL2_REQUIRED',
    });
  }
}

/** The one superuser guard: throws `FORBIDDEN` (naming `what`) unless the viewer is an active superuser. */
export async function requireSuperuser(scope: Scope, what: string): Promise<void> {
  const viewer = requireViewer(scope);
  const flags = await scope.loaders.permissions.flags(viewer.user.id);
  if (!flags.active || !flags.superuser) throw appError(ErrorCode.FORBIDDEN, `Only a superuser may ${what}.`);
  requireAal2(scope);
}
