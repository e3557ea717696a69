import type { Context } from '../context.ts';

/**
 * Whether the viewer is staff: an active account whose `isStaff` or `isSuperuser` data-bag
 * value is true (read through the bag, so it works whichever profile holds the flags; no
 * profile defining them means nobody is staff). Memoised per request.
 */
export function viewerIsStaff(ctx: Context): Promise<boolean> {
  ctx.staff ??= (async () => {
    if (!ctx.viewer) return false;
    const flag = async (key: string, absent: boolean) => {
      const resolved = tryResolve(ctx, key);
      if (!resolved) return absent;
      const row = await ctx.loaders.load(resolved.profile.name, ctx.viewer!.user.id);
      const value = row?.[resolved.field.name];
      return value === undefined || value === null ? absent : value === true;
    };
    const [active, staff, superuser] = await Promise.all([flag('isActive', true), flag('isStaff', false), flag('isSuperuser', false)]);
    return active && (staff || superuser);
  })();
  return ctx.staff;
}

function tryResolve(ctx: Context, key: string) {
  try {
    return ctx.services.profiles.registry.resolveForRead(key);
  } catch {
    return undefined;
  }
}

/** Owners and staff may read private fields of a user; everyone else sees null. */
export async function canSeePrivate(ctx: Context, ownerId: string): Promise<boolean> {
  if (ctx.viewer?.user.id === ownerId) return true;
  return viewerIsStaff(ctx);
}
