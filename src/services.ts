import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { BackgroundTasks } from './background.ts';
import { EmailConfirmationService } from './modules/auth/email-confirmation.service.ts';
import { PasswordResetService } from './modules/auth/password-reset.service.ts';
import { createMailTransport, Mailer, type MailTransport } from './modules/mail/mailer.ts';
import { MailQuota } from './modules/mail/mail-quota.ts';
import { TokenService } from './modules/tokens/token.service.ts';
import { AuditService } from './modules/events/audit.service.ts';
import { EventBus } from './modules/events/events.ts';
import { PermissionService } from './modules/permissions/permission.service.ts';
import { TrustedHeaderAuth } from './modules/auth/trusted-header.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { Reauthentication } from './modules/auth/reauthentication.ts';
import { DeviceTokenService } from './modules/auth/device-tokens.ts';
import { LoginThrottle } from './modules/auth/login-throttle.ts';
import { PasswordHasher } from './modules/auth/password-hasher.ts';
import { SessionService } from './modules/sessions/session.service.ts';
import { DeviceSessionsService } from './modules/sessions/device-sessions.service.ts';
import { AccountDeletionService } from './modules/accounts/account-deletion.service.ts';
import { AccountExportService } from './modules/accounts/account-export.service.ts';
import { WebhookService } from './modules/webhooks/webhooks.ts';
import { SecondFactorService } from './modules/second-factor/second-factor.service.ts';
import { SecretBox } from './modules/second-factor/secret-box.ts';
import { UserService } from './modules/users/user.service.ts';
import { CoreKeys } from './modules/profiles/core-keys.ts';
import { ProfileService } from './modules/profiles/profile.service.ts';
import { AdministrationService } from './modules/administration/administration.service.ts';
import { ProfileWriter } from './modules/profiles/profile.writer.ts';
import { FollowService } from './modules/social/follow.service.ts';
import type { ProfileRegistry } from './profiles/registry.ts';

/**
 * The app-wide, stateless services, wired once by {@link createServices}: each gets the
 * services it uses through its constructor. Per-request state lives in the RequestScope
 * (src/request.ts), never here.
 */
export interface Services {
  config: Config;
  clock: Clock;
  registry: ProfileRegistry;
  coreKeys: CoreKeys;
  profileWriter: ProfileWriter;
  passwords: PasswordHasher;
  sessions: SessionService;
  deviceSessions: DeviceSessionsService;
  accountDeletion: AccountDeletionService;
  accountExport: AccountExportService;
  webhooks: WebhookService;
  secondFactor: SecondFactorService;
  users: UserService;
  auth: AuthService;
  profiles: ProfileService;
  administration: AdministrationService;
  follows: FollowService;
  tokens: TokenService;
  mailer: Mailer;
  background: BackgroundTasks;
  emailConfirmation: EmailConfirmationService;
  passwordReset: PasswordResetService;
  permissions: PermissionService;
  events: EventBus;
  audit: AuditService;
  trustedHeader: TrustedHeaderAuth;
}

/** Collaborators of {@link createServices}; `passwordHasher` and `mailTransport` may be replaced (tests). */
export interface ServiceDeps {
  clock: Clock;
  /** The root EntityManager (background work forks it). */
  em: EntityManager;
  logger: Logger;
  passwordHasher?: PasswordHasher;
  mailTransport?: MailTransport;
  /** Metrics callbacks (src/metrics.ts): each argon2 wait for a slot, in seconds; each mail delivery's outcome. */
  onPasswordHashWait?: (seconds: number) => void;
  onMailOutcome?: (outcome: 'delivered' | 'failed') => void;
}

/** Wires the services. */
export function createServices(config: Config, registry: ProfileRegistry, deps: ServiceDeps): Services {
  const passwords = deps.passwordHasher ?? new PasswordHasher(config.passwords, deps.onPasswordHashWait);
  const coreKeys = new CoreKeys(registry);
  const sessions = new SessionService(config.sessions, deps.clock, coreKeys);
  const users = new UserService(registry, { defaultSize: config.users.pageSize, maxSize: config.users.maxPageSize });
  const throttle = new LoginThrottle(deps.em.getConnection(), config.loginThrottle);
  const deviceTokens = new DeviceTokenService(config.loginThrottle.deviceTokenTtlMs, deps.clock);
  const tokens = new TokenService(deps.clock);
  const background = new BackgroundTasks(deps.logger);
  const events = new EventBus(deps.logger, deps.clock);
  const pageSize = { defaultSize: config.users.pageSize, maxSize: config.users.maxPageSize };
  const mailer = new Mailer(deps.mailTransport ?? createMailTransport(config.mail, { em: deps.em, logger: deps.logger }), {
    from: config.mail.from,
    logger: deps.logger,
    ...(deps.onMailOutcome ? { onOutcome: deps.onMailOutcome } : {}),
  });
  const profileWriter = new ProfileWriter(registry, coreKeys, sessions, events);
  const mailQuota = new MailQuota(deps.em.getConnection(), deps.logger);
  const emailConfirmation = new EmailConfirmationService(
    config,
    registry,
    tokens,
    mailer,
    background,
    deps.em,
    throttle,
    deps.clock,
    events,
    profileWriter,
    mailQuota,
  );
  const reauthentication = new Reauthentication(passwords, throttle);
  const secondFactor = new SecondFactorService(
    config.secondFactor,
    new SecretBox(config.secondFactor.secretsKey),
    reauthentication,
    events,
    deps.clock,
    throttle,
  );
  const profiles = new ProfileService(registry, profileWriter, users, emailConfirmation, coreKeys, reauthentication);
  const auth = new AuthService(
    config,
    users,
    sessions,
    passwords,
    throttle,
    profileWriter,
    coreKeys,
    emailConfirmation,
    tokens,
    events,
    deviceTokens,
    mailer,
    reauthentication,
    secondFactor,
  );
  const passwordReset = new PasswordResetService(
    config,
    users,
    coreKeys,
    tokens,
    sessions,
    passwords,
    throttle,
    mailer,
    background,
    deps.em,
    events,
    mailQuota,
  );
  const administration = new AdministrationService(config, users, sessions, passwords, profileWriter, profiles, tokens, events);
  const follows = new FollowService(coreKeys, config.followRequiresConfirmation, events);
  const deviceSessions = new DeviceSessionsService(sessions, users, events);
  const accountDeletion = new AccountDeletionService(registry, users, reauthentication, events);
  const accountExport = new AccountExportService(registry, users);
  const webhooks = new WebhookService(deps.clock);
  // Every event is queued for its webhooks in the event's own transaction.
  events.addRecorder((em, event) => webhooks.enqueue(em, event));
  return {
    config,
    clock: deps.clock,
    registry,
    coreKeys,
    profileWriter,
    passwords,
    sessions,
    deviceSessions,
    accountDeletion,
    accountExport,
    webhooks,
    secondFactor,
    users,
    auth,
    profiles,
    administration,
    follows,
    tokens,
    mailer,
    background,
    emailConfirmation,
    passwordReset,
    permissions: new PermissionService(users, profileWriter, events),
    events,
    audit: new AuditService(pageSize),
    trustedHeader: new TrustedHeaderAuth(config.trustedHeader, config.accounts.identifierMaxLength, users, profileWriter, coreKeys, events, deps.logger),
  };
}
