import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { PermissionLoaders } from './modules/permissions/permission.loaders.ts';
import { FollowLoaders } from './modules/social/follow.loaders.ts';
import { ProfileLoaders } from './profiles/loaders.ts';
import type { RequestScope } from './request.ts';
import type { Services } from './services.ts';

/** Extracts the token of an `Authorization: Bearer <token>` header, or `undefined`. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+([A-Za-z0-9_-]{16,128})\s*$/i);
  return match?.[1];
}

/** What {@link createContext} reads of an HTTP request. */
export interface RequestInfo {
  authorization: string | string[] | undefined;
  clientAddress: string;
  /** The socket's peer address (not X-Forwarded-For), for trusted-header authentication. */
  peerAddress?: string | undefined;
  /** Value of the configured trusted header, if the request carries it. */
  trustedIdentity?: string | undefined;
}

/**
 * Builds the GraphQL context of one request, its {@link RequestScope}: forks the
 * EntityManager, resolves the viewer from the bearer token (an unknown or expired token simply
 * means no viewer) or, when configured, from a trusted proxy's identity header, and creates
 * fresh DataLoaders. The only place that turns an HTTP request into a scope.
 */
export async function createContext(services: Services, rootEm: EntityManager, request: RequestInfo): Promise<RequestScope> {
  const em = rootEm.fork();
  const token = bearerToken(request.authorization);
  let viewer = token ? await services.sessions.resolve(em, token) : null;
  if (!viewer && !token && request.trustedIdentity) {
    const user = await services.trustedHeader.authenticate(em, request.trustedIdentity, request.peerAddress);
    // No session row backs this viewer: logout has nothing to end, the proxy decides.
    if (user) viewer = { id: null, user };
  }
  const profiles = new ProfileLoaders(em, services.registry);
  const follows = new FollowLoaders(em, viewer?.user.id, {
    defaultSize: services.config.users.pageSize,
    maxSize: services.config.users.maxPageSize,
  });
  const permissions = new PermissionLoaders(em, profiles, services.coreKeys);
  const users = new DataLoader((ids: readonly string[]) => services.users.findManyById(em, ids), { maxBatchSize: 1000 });
  return { em, viewer, clientAddress: request.clientAddress, clock: services.clock, loaders: { profiles, follows, permissions, users } };
}
