import { sessionLoader } from './modules/sessions/session.loaders.ts';
import { createHash, timingSafeEqual } from 'node:crypto';
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
  /** Value of the `x-composition-token` header, if the request carries it. */
  compositionToken?: string | undefined;
  /** The `User-Agent` header, if any. */
  userAgent?: string | undefined;
}

/** Name of the header gateways send `COMPOSITION_TOKEN` in, to read `_sdl` while introspection is off. */
export const COMPOSITION_TOKEN_HEADER = 'x-composition-token';

/**
 * Whether a request may read the composition SDL: always while `introspection` is on; else
 * only when `given` equals the configured token (compared as SHA-256 digests in constant time,
 * so neither the length nor a prefix leaks). No token configured: never.
 */
export function compositionAllowed(http: { introspection: boolean; compositionToken: string | undefined }, given: string | undefined): boolean {
  if (http.introspection) return true;
  if (!http.compositionToken || given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(http.compositionToken));
}

/**
 * Builds the GraphQL context of one request, its {@link RequestScope}: forks the
 * EntityManager, resolves the viewer from the bearer token (an unknown or expired token simply
 * means no viewer; so does a deactivated account's token) or, when configured, from a trusted
 * proxy's identity header, decides whether the request may read the composition SDL (see
 * {@link compositionAllowed}), and creates fresh DataLoaders. The only place that turns an
 * HTTP request into a scope.
 */
export async function createContext(services: Services, rootEm: EntityManager, request: RequestInfo): Promise<RequestScope> {
  const em = rootEm.fork();
  const token = bearerToken(request.authorization);
  let viewer = token ? await services.sessions.resolve(em, token) : null;
  if (!viewer && !token && request.trustedIdentity) {
    const user = await services.trustedHeader.authenticate(em, request.trustedIdentity, request.peerAddress);
    // No session row backs this viewer: logout has nothing to end, the proxy decides.
    if (user) viewer = { id: null, user, createdAt: null };
  }
  const profiles = new ProfileLoaders(em, services.registry);
  // The session lookup read the viewer's flag-holding profile rows: the staff test needs no statement.
  for (const { profile, row } of viewer?.profileRows ?? []) if (row) profiles.prime(profile, viewer!.user.id, row);
  const follows = new FollowLoaders(em, viewer?.user.id, {
    defaultSize: services.config.users.pageSize,
    maxSize: services.config.users.maxPageSize,
  });
  const permissions = new PermissionLoaders(em, profiles, services.coreKeys);
  const users = new DataLoader((ids: readonly string[]) => services.users.findManyById(em, ids), { maxBatchSize: 1000 });
  const sessions = sessionLoader(em, services.sessions);
  return {
    em,
    viewer,
    clientAddress: request.clientAddress,
    userAgent: request.userAgent ?? null,
    sessionIssuedTo: new Set(),
    staffRequiresAal2: services.config.secondFactor.staffRequireAal2,
    composition: compositionAllowed(services.config.http, request.compositionToken),
    clock: services.clock,
    loaders: { profiles, follows, permissions, users, sessions },
  };
}
