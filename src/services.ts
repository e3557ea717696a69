import type { Connection } from '@mikro-orm/postgresql';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { LoginThrottle } from './modules/auth/login-throttle.ts';
import { PasswordHasher } from './modules/auth/password-hasher.ts';
import { SessionService } from './modules/sessions/session.service.ts';
import { UserService } from './modules/users/user.service.ts';
import { ProfileService } from './profiles/profile.service.ts';
import { FollowService } from './modules/social/follow.service.ts';
import type { ProfileRegistry } from './profiles/registry.ts';

/** The app-wide, stateless services. Per-request state lives in the Context, never here. */
export interface Services {
  config: Config;
  clock: Clock;
  passwords: PasswordHasher;
  sessions: SessionService;
  users: UserService;
  auth: AuthService;
  profiles: ProfileService;
  follows: FollowService;
}

/** Wires the services. `passwordHasher` may be replaced (tests wrap it to count argon2 calls). */
export function createServices(
  config: Config,
  registry: ProfileRegistry,
  deps: { clock: Clock; connection: Connection; passwordHasher?: PasswordHasher },
): Services {
  const passwords = deps.passwordHasher ?? new PasswordHasher(config.passwords);
  const sessions = new SessionService(config.sessions, deps.clock);
  const users = new UserService(registry, { defaultSize: config.users.pageSize, maxSize: config.users.maxPageSize });
  const profiles = new ProfileService(registry);
  const throttle = new LoginThrottle(deps.connection, config.loginThrottle);
  const auth = new AuthService(config, users, sessions, passwords, throttle, profiles);
  const follows = new FollowService(profiles, config.followRequiresConfirmation);
  return { config, clock: deps.clock, passwords, sessions, users, auth, profiles, follows };
}
