import type { EntityManager } from '@mikro-orm/postgresql';
import type DataLoader from 'dataloader';
import type { Clock } from './clock.ts';
import { appError, ErrorCode } from './errors.ts';
import type { PermissionLoaders } from './modules/permissions/permission.loaders.ts';
import type { ActiveSession, SessionRow } from './modules/sessions/session.service.ts';
import type { FollowLoaders } from './modules/social/follow.loaders.ts';
import type { UserEntity } from './modules/users/user.entity.ts';
import type { ProfileLoaders } from './profiles/loaders.ts';

/** The per-request DataLoaders, fresh for every request (nothing user-specific outlives it). */
export interface RequestLoaders {
  /** Profile rows by user id, one loader per profile. */
  profiles: ProfileLoaders;
  /** Follow counts, statuses, requests and list pages. */
  follows: FollowLoaders;
  /** Groups, granted permissions and the account flags behind them. */
  permissions: PermissionLoaders;
  /** Users by id (`_usersByIds`, federation `_entities`); null for unknown ids. */
  users: DataLoader<string, UserEntity | null>;
  /** Live sessions by user id (`User.sessions`). */
  sessions: DataLoader<string, SessionRow[]>;
}

/**
 * What one request is, and all a service needs of it: its own EntityManager fork (identity
 * map and unit of work live for this request only), the authenticated viewer if any, the
 * client address used for rate limits, whether a gateway may read the composition SDL, the
 * clock, and fresh DataLoaders. It is also the
 * GraphQL context: resolvers get their services from their module's resolver factory, never
 * from the context.
 */
export interface RequestScope {
  em: EntityManager;
  viewer: ActiveSession | null;
  clientAddress: string;
  /** The request's `User-Agent` header (first value), stored with a session it opens; null without one. */
  userAgent: string | null;
  /**
   * The request may read the schema's SDL through `_sdl` (and federation's `_service`): true
   * while introspection is on, else only with the configured `x-composition-token`.
   */
  composition: boolean;
  /**
   * Users this request issued a session to (`signup`, `login`): the payload's `user` is read as
   * its owner would read it (private fields included), though the request itself stays as it came.
   */
  sessionIssuedTo: Set<string>;
  /** `STAFF_REQUIRE_AAL2`: staff operations need a session that passed a second factor. */
  staffRequiresAal2?: boolean;
  clock: Clock;
  loaders: RequestLoaders;
}

/** The viewer of `scope`; throws `UNAUTHENTICATED` when the request has none. */
export function requireViewer(scope: Pick<RequestScope, 'viewer'>): ActiveSession {
  if (!scope.viewer) throw appError(ErrorCode.UNAUTHENTICATED, 'You must be signed in.');
  return scope.viewer;
}
