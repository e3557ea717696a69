import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { ActiveSession } from './modules/sessions/session.service.ts';
import type { UserEntity } from './modules/users/user.entity.ts';
import { ProfileLoaders } from './profiles/loaders.ts';
import { FollowLoaders } from './modules/social/follow.loaders.ts';
import { PermissionLoaders } from './modules/permissions/permission.loaders.ts';
import type { Services } from './services.ts';

/**
 * Everything one GraphQL request sees: its own EntityManager fork (identity map and unit of
 * work live for this request only), the authenticated session if any, the client address
 * used for rate limits, and the app-wide services.
 */
export interface Context {
  em: EntityManager;
  viewer: ActiveSession | null;
  clientAddress: string;
  services: Services;
  /** Per-request DataLoaders of profile rows. */
  loaders: ProfileLoaders;
  /** Per-request DataLoaders of the follow graph. */
  follows: FollowLoaders;
  /** Per-request DataLoaders of groups, permissions and account flags. */
  permissions: PermissionLoaders;
  /** Per-request DataLoader of users by id (`_usersByIds`, federation `_entities`). */
  users: DataLoader<string, UserEntity | null>;
  /** Memoised answer of `viewerIsStaff` for this request. */
  staff?: Promise<boolean>;
}

/** Extracts the token of an `Authorization: Bearer <token>` header, or `undefined`. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+([A-Za-z0-9_-]{16,128})\s*$/i);
  return match?.[1];
}

/**
 * Builds the per-request context: forks the EntityManager and resolves the viewer from the
 * bearer token (an unknown or expired token simply means no viewer) or, when configured, from
 * a trusted proxy's identity header, and creates fresh DataLoaders.
 */
export async function createContext(
  services: Services,
  rootEm: EntityManager,
  request: {
    authorization: string | string[] | undefined;
    clientAddress: string;
    /** The socket's peer address (not X-Forwarded-For), for trusted-header authentication. */
    peerAddress?: string | undefined;
    /** Value of the configured trusted header, if the request carries it. */
    trustedIdentity?: string | undefined;
  },
): Promise<Context> {
  const em = rootEm.fork();
  const token = bearerToken(request.authorization);
  let viewer = token ? await services.sessions.resolve(em, token) : null;
  if (!viewer && !token && request.trustedIdentity) {
    const user = await services.trustedHeader.authenticate(em, request.trustedIdentity, request.peerAddress);
    // No session row backs this viewer: logout has nothing to end, the proxy decides.
    if (user) viewer = { id: null, user };
  }
  const loaders = new ProfileLoaders(em, services.profiles.registry);
  const follows = new FollowLoaders(em, viewer?.user.id, {
    defaultSize: services.config.users.pageSize,
    maxSize: services.config.users.maxPageSize,
  });
  const permissions = new PermissionLoaders(em, loaders, services.profiles.registry);
  const users = new DataLoader((ids: readonly string[]) => services.users.findManyById(em, ids), { maxBatchSize: 1000 });
  return { em, viewer, clientAddress: request.clientAddress, services, loaders, follows, permissions, users };
}
