import type { Context } from '../context.ts';

/**
 * Whether the viewer is staff: an active account whose data-bag `isStaff` or `isSuperuser`
 * is true (read through the bag, so it works whichever profile holds the flags; no profile
 * defining them means nobody is staff). Memoised per request.
 */
export function viewerIsStaff(ctx: Context): Promise<boolean> {
  ctx.staff ??= ctx.viewer
    ? ctx.permissions.flags(ctx.viewer.user.id).then((f) => f.active && (f.staff || f.superuser))
    : Promise.resolve(false);
  return ctx.staff;
}

/** Owners and staff may read private fields of a user; everyone else sees null. */
export async function canSeePrivate(ctx: Context, ownerId: string): Promise<boolean> {
  if (ctx.viewer?.user.id === ownerId) return true;
  return viewerIsStaff(ctx);
}
