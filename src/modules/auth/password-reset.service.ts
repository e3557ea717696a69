import type { EntityManager } from '@mikro-orm/postgresql';
import type { BackgroundTasks } from '../../background.ts';
import type { Config } from '../../config.ts';
import { appError, badInput, ErrorCode } from '../../errors.ts';
import type { CoreKeys } from '../profiles/core-keys.ts';
import { passwordChanged, passwordReset } from '../mail/templates.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { MailQuota } from '../mail/mail-quota.ts';
import type { SessionService } from '../sessions/session.service.ts';
import type { TokenService } from '../tokens/token.service.ts';
import { User } from '../users/user.entity.ts';
import type { UserService } from '../users/user.service.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { EventBus } from '../events/events.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { checkPassword } from './password-policy.ts';

const INVALID = 'This reset link is invalid or has expired.';

/**
 * Password reset by mailed token (SPEC §6). `request` answers the same way, in the same
 * time, whether or not the account exists: the lookup, token and mail happen in the
 * background after the response. `reset` spends the token in the same transaction that
 * replaces the password and ends every session.
 */
export class PasswordResetService {
  constructor(
    private readonly config: Config,
    private readonly users: UserService,
    private readonly coreKeys: CoreKeys,
    private readonly tokens: TokenService,
    private readonly sessions: SessionService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly mailer: Mailer,
    private readonly background: BackgroundTasks,
    private readonly rootEm: EntityManager,
    private readonly events: EventBus,
    private readonly mailQuota: MailQuota,
  ) {}

  /**
   * `requestPasswordReset(identifier)`: always true. When the identifier names an active
   * account with an address (data-bag `email`), a reset token is mailed there, at most
   * `MAIL_QUOTA_PER_HOUR` (3) times per account per hour (`MailQuota`): past that nothing is
   * issued or sent (the last mailed link keeps working) and a warn line is logged. Counted
   * against the client address's token limit (`RATE_LIMITED`).
   */
  async request(identifier: string, clientAddress: string): Promise<true> {
    await this.throttle.consumeTokenGuess(clientAddress);
    this.background.run('password reset request', async () => {
      const em = this.rootEm.fork();
      const user = await this.users.findByIdentifier(em, identifier);
      if (!user) return;
      const active = await this.coreKeys.read(em, user.id, 'isActive');
      const address = await this.coreKeys.read(em, user.id, 'email');
      if (!active || address === null) return;
      if (!(await this.mailQuota.allowReset(user.id))) return;
      const issued = await this.tokens.issue(em, user.id, 'PASSWORD_RESET', this.config.email.passwordResetTtlMs);
      const link = `${this.config.email.publicUrl.replace(/\/$/, '')}/reset-password?token=${encodeURIComponent(issued.token)}`;
      this.mailer.send(address, passwordReset({ identifier: user.identifier, link, token: issued.token, expiresAt: issued.expiresAt }), 'passwordReset');
    });
    return true;
  }

  /**
   * `resetPassword(token, newPassword)`: checks the password rules, then in one transaction
   * spends the token (exactly one of concurrent uses wins), stores the new argon2id hash and
   * ends every session and every other reset token. Returns no session. Errors:
   * `INVALID_TOKEN`, `BAD_USER_INPUT` (field `newPassword`; the token stays usable),
   * `RATE_LIMITED`.
   */
  async reset(em: EntityManager, token: string, newPassword: string, clientAddress: string): Promise<true> {
    await this.throttle.consumeTokenGuess(clientAddress);
    const grant = await this.tokens.peek(em, token, 'PASSWORD_RESET');
    const user = grant && (await this.users.findById(em, grant.userId));
    if (!grant || !user) throw appError(ErrorCode.INVALID_TOKEN, INVALID);
    const problem = checkPassword(newPassword, this.config.passwords, [user.identifier]);
    if (problem) throw badInput({ newPassword: problem });
    const hash = await this.hasher.hash(newPassword);
    await em.transactional(async (tx) => {
      const spent = await this.tokens.consume(tx, token, 'PASSWORD_RESET');
      if (!spent) throw appError(ErrorCode.INVALID_TOKEN, INVALID);
      await tx.nativeUpdate(User, { id: user.id }, { password: hash });
      await this.sessions.revokeAll(tx, user.id);
      await this.tokens.revokeAll(tx, user.id, 'PASSWORD_RESET');
      await this.events.emit(tx, { type: 'auth.password_reset', actorId: user.id, subjectId: user.id, clientAddress, data: {} });
    });
    await this.throttle.tokenSucceeded(clientAddress);
    const address = await this.coreKeys.read(em, user.id, 'email');
    if (address !== null) this.mailer.send(address, passwordChanged({ identifier: user.identifier }), 'passwordChanged');
    return true;
  }
}
