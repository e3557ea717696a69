import type { SecondFactorMethod, SecondFactorService } from '../second-factor/second-factor.service.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../config.ts';
import { appError, badInput, ErrorCode } from '../../errors.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { SessionService } from '../sessions/session.service.ts';
import { User, type UserEntity } from '../users/user.entity.ts';
import { identifierKey } from '../users/identifier.ts';
import type { UserService } from '../users/user.service.ts';
import type { DeviceTokenService } from './device-tokens.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { checkPassword } from './password-policy.ts';
import type { CoreKeys } from '../profiles/core-keys.ts';
import type { ProfileWriter, ProfilesInput } from '../profiles/profile.writer.ts';
import type { TokenService } from '../tokens/token.service.ts';
import type { EventBus } from '../events/events.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Reauthentication } from './reauthentication.ts';
import { passwordChanged } from '../mail/templates.ts';
import type { EmailConfirmationService } from './email-confirmation.service.ts';
import { insertAccount, newAccountRefusal } from './new-account.ts';

/** What signup and login return: a new session, its user, and the client's device token. */
export interface AuthResult {
  token: string;
  expiresAt: Date;
  user: UserEntity;
  /** The device token the client keeps for later logins (the one it sent, when still valid). */
  deviceToken: string;
}

/** A correct password of an account with a second factor: no session yet, a challenge for `verifySecondFactor`. */
export interface SecondStepRequired {
  secondFactorRequired: true;
  challenge: string;
  methods: SecondFactorMethod[];
}

/** Rolls back the second step's transaction when the challenge or the code does not pass. */
class SecondStepRefused extends Error {}

const INVALID_CREDENTIALS_MESSAGE = 'Invalid identifier or password.';

/**
 * The account flows: signup, login, logout, password change (SPEC §6). Each mutation runs in
 * one transaction; argon2 runs outside transactions so no connection is held while hashing.
 */
export class AuthService {
  constructor(
    private readonly config: Config,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly profiles: ProfileWriter,
    private readonly coreKeys: CoreKeys,
    private readonly emailConfirmation: EmailConfirmationService,
    private readonly tokens: TokenService,
    private readonly events: EventBus,
    private readonly deviceTokens: DeviceTokenService,
    private readonly mailer: Mailer,
    private readonly reauthentication: Reauthentication,
    private readonly secondFactor: SecondFactorService,
  ) {}

  /**
   * Creates a user, its auto-created profiles (plus any other profile given) and its first
   * session in one transaction. The identifier (core rules, then every profile's rules), the
   * password and every profile value are validated before hashing; all problems are reported
   * together. Errors: `FORBIDDEN` when a readonly profile field is given (`extensions.fields`
   * naming each `input.profiles.<profile>.<field>`: the same code as `updateProfiles` and
   * `setData`, reported before any other problem), `BAD_USER_INPUT` (fields `input.identifier`,
   * `input.password`, `input.profiles.<profile>.<field>`), `IDENTIFIER_TAKEN` — also for concurrent signups of
   * one identifier in any case or normalisation variant, settled by the unique index —,
   * `RATE_LIMITED` past `SIGNUP_MAX_PER_ADDRESS_HOUR` from `clientAddress` (absent: the CLI, not counted).
   */
  async signup(
    { em, clock, clientAddress, userAgent }: Pick<RequestScope, 'em' | 'clock'> & { clientAddress?: string; userAgent?: string | null },
    input: { identifier: string; password: string; profiles?: ProfilesInput | null },
  ): Promise<AuthResult> {
    const profilesInput = input.profiles ?? {};
    const refusal = await newAccountRefusal(this.config, this.profiles, input, { asStaff: false });
    if (refusal) throw refusal;
    // API signups count per client address; the CLI (no address) is the operator's.
    if (clientAddress !== undefined) await this.throttle.consumeSignup(clientAddress);
    const passwordHash = await this.hasher.hash(input.password);
    const account = { identifier: input.identifier, password: passwordHash, profiles: profilesInput, createdAt: clock.now() };
    const result = await insertAccount(em, this.profiles, account, async (tx, user): Promise<AuthResult> => {
      const session = await this.sessions.issue(tx, user.id, { userAgent, address: clientAddress });
      const deviceToken = await this.deviceTokens.issue(tx, user.id);
      return { token: session.token, expiresAt: session.expiresAt, user, deviceToken };
    });
    await this.events.emit(em, { type: 'user.signup', actorId: result.user.id, subjectId: result.user.id, data: { identifier: input.identifier } });
    const target = this.emailConfirmation.target;
    const address = target && profilesInput[target.profile]?.[target.field];
    if (typeof address === 'string') this.emailConfirmation.start(result.user, address, false);
    return result;
  }

  /**
   * Starts a session for valid credentials of an active account. Exactly one argon2
   * verification runs whether or not the identifier exists, and every failure (unknown,
   * wrong password, unusable password, inactive) is the same `INVALID_CREDENTIALS`. With
   * `EMAIL_CONFIRMATION=required`, a correct password on an unconfirmed address is
   * `FORBIDDEN` with `extensions.reason: "EMAIL_NOT_CONFIRMED"`. Each call counts
   * against the throttle (`RATE_LIMITED`, `LoginThrottle`): a live `deviceToken` of this
   * account makes the client a known one with its own allowance; any other token (forged,
   * expired, another account's) is ignored and the client counted as unknown. A successful
   * login returns the presented device token (its lifetime extended) or a new one.
   * A hash of outdated parameters is replaced by one of the current parameters.
   */
  async login(scope: RequestScope, identifier: string, password: string, deviceToken?: string | null): Promise<AuthResult | SecondStepRequired> {
    const { em, clientAddress } = scope;
    const key = identifierKey(identifier);
    const failed = (reason: 'invalid_credentials' | 'rate_limited' | 'email_not_confirmed', subjectId: string | null) =>
      this.events.emit(em, { type: 'auth.login_failed', actorId: null, subjectId, clientAddress, data: { identifier, reason } });
    const found = await this.deviceTokens.find(em, deviceToken);
    const device = found?.identifierKey === key ? found : null;
    const client = { address: clientAddress, device: device && `device:${device.id}` };
    try {
      await this.throttle.consume(key, client);
    } catch (error) {
      await failed('rate_limited', null);
      throw error;
    }
    const user = await this.users.findByIdentifier(em, identifier);
    const result = await this.hasher.verify(user?.password, password);
    // An inactive account (data-bag `isActive` false; absent means active) fails like a wrong password.
    if (!user || !result.valid || !(await this.coreKeys.read(em, user.id, 'isActive'))) {
      await failed('invalid_credentials', user?.id ?? null);
      throw appError(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS_MESSAGE);
    }
    // With a second factor the password alone is no success: the failure count (code guesses
    // included) is cleared only when verifySecondFactor passes.
    const enrolled = await this.secondFactor.isEnrolled(em, user.id);
    if (!enrolled) await this.throttle.succeeded(key, client);
    if (this.config.email.confirmation === 'required' && !(await this.emailConfirmation.isConfirmed(em, user.id))) {
      await failed('email_not_confirmed', user.id);
      throw appError(ErrorCode.FORBIDDEN, 'Confirm your email address before logging in.', { reason: 'EMAIL_NOT_CONFIRMED' });
    }
    if (result.needsRehash) await this.rehash(em, user, password);
    if (enrolled) {
      // The password was right; the session waits for the second step.
      return { secondFactorRequired: true, ...(await this.secondFactor.issueChallenge(em, user.id, clientAddress)) };
    }
    return this.openSession(scope, user, 'password', 'aal1', device?.userId === user.id && deviceToken ? { id: device.id, token: deviceToken } : null);
  }

  /**
   * The second step of a login: `code` (a TOTP code or a recovery code) answers the `challenge`
   * `login` returned, from the same client address, before it expires. Success spends the
   * challenge and the code and returns an `aal2` session; each failure counts against the same
   * limits as a wrong password. Errors: `INVALID_CREDENTIALS` (unknown, expired, spent or foreign
   * challenge; wrong, replayed or spent code), `RATE_LIMITED`.
   */
  async verifySecondFactor(scope: RequestScope, challenge: string, code: string, deviceToken?: string | null): Promise<AuthResult> {
    const { em, clientAddress } = scope;
    const found = await this.secondFactor.findChallenge(em, challenge, clientAddress);
    const user = found ? await this.users.findById(em, found.userId) : null;
    if (!found || !user) throw appError(ErrorCode.INVALID_CREDENTIALS, 'This login challenge is unknown, expired or already used: log in again.');
    const key = identifierKey(user.identifier);
    const device = await this.deviceTokens.find(em, deviceToken);
    const client = { address: clientAddress, device: device?.userId === user.id ? `device:${device.id}` : null };
    await this.throttle.consume(key, client);
    const method = /^\s*\d{6}\s*$/.test(code) ? 'TOTP' : 'RECOVERY_CODE';
    // Challenge and code are spent together or not at all (a code is never burnt on a challenge
    // another request spent first).
    const passed = await em
      .transactional(async (tx) => {
        if (!(await this.secondFactor.spendChallenge(tx, found.id)) || !(await this.secondFactor.checkCode(tx, user, code))) throw new SecondStepRefused();
        return true;
      })
      .catch((error: unknown) => {
        if (error instanceof SecondStepRefused) return false;
        throw error;
      });
    if (!passed) {
      await this.events.emit(em, {
        type: 'auth.second_factor_failed',
        actorId: null,
        subjectId: user.id,
        clientAddress,
        data: { identifier: user.identifier, method },
      });
      throw appError(ErrorCode.INVALID_CREDENTIALS, 'The code is wrong or was already used.');
    }
    await this.throttle.succeeded(key, client);
    return this.openSession(scope, user, 'second-factor', 'aal2', device?.userId === user.id && deviceToken ? { id: device.id, token: deviceToken } : null);
  }

  /** Stamps the login, issues the session (and a device token, or touches the one sent), and records `auth.login`. */
  private async openSession(
    { em, clientAddress, clock, userAgent }: RequestScope,
    user: UserEntity,
    via: 'password' | 'second-factor',
    assuranceLevel: 'aal1' | 'aal2',
    keptDevice: { id: string; token: string } | null,
  ): Promise<AuthResult> {
    await this.profiles.recordLogin(em, user.id, clock.now());
    const session = await this.sessions.issue(em, user.id, { userAgent, address: clientAddress }, assuranceLevel);
    let issuedDeviceToken: string;
    if (keptDevice) {
      await this.deviceTokens.touch(em, keptDevice.id);
      issuedDeviceToken = keptDevice.token;
    } else {
      issuedDeviceToken = await this.deviceTokens.issue(em, user.id);
    }
    await this.events.emit(em, { type: 'auth.login', actorId: user.id, subjectId: user.id, clientAddress, data: { identifier: user.identifier, via } });
    return { token: session.token, expiresAt: session.expiresAt, user, deviceToken: issuedDeviceToken };
  }

  /** Ends the viewer's current session. Errors: `UNAUTHENTICATED`. */
  async logout(scope: RequestScope): Promise<boolean> {
    const { em } = scope;
    const { id, user } = requireViewer(scope);
    await this.sessions.revoke(em, id);
    await this.events.emit(em, { type: 'auth.logout', actorId: user.id, subjectId: user.id, data: { allSessions: false } });
    return true;
  }

  /** Ends every session of the viewer. Errors: `UNAUTHENTICATED`. */
  async logoutAll(scope: RequestScope): Promise<boolean> {
    const { em } = scope;
    const { user } = requireViewer(scope);
    await this.sessions.revokeAll(em, user.id);
    await this.events.emit(em, { type: 'auth.logout', actorId: user.id, subjectId: user.id, data: { allSessions: true } });
    return true;
  }

  /**
   * Replaces the viewer's password after checking the current one, and ends every other
   * session in the same transaction, then mails a notice to the account's address (core key
   * `email`). The check is throttled like a login; a request signed in
   * with a session is a known client of its account (its own allowance per session). Errors:
   * `UNAUTHENTICATED`, `INVALID_CREDENTIALS`, `BAD_USER_INPUT` (field `newPassword`), `RATE_LIMITED`.
   */
  async changePassword(scope: RequestScope, currentPassword: string, newPassword: string): Promise<boolean> {
    const { em, clientAddress } = scope;
    const viewer = requireViewer(scope);
    await this.reauthentication.verify(scope, currentPassword);
    const policyError = checkPassword(newPassword, this.config.passwords, [viewer.user.identifier]);
    if (policyError) throw badInput({ newPassword: policyError });
    const hash = await this.hasher.hash(newPassword);
    await em.transactional(async (tx) => {
      // Conditional on the hash we verified: a concurrent change wins, this one fails cleanly.
      const updated = await tx.nativeUpdate(User, { id: viewer.user.id, password: viewer.user.password }, { password: hash });
      if (updated === 0) throw appError(ErrorCode.INVALID_CREDENTIALS, 'The current password is wrong.');
      await this.sessions.revokeAll(tx, viewer.user.id, viewer.id);
      await this.tokens.revokeAll(tx, viewer.user.id, 'PASSWORD_RESET');
      await this.events.emit(tx, { type: 'auth.password_changed', actorId: viewer.user.id, subjectId: viewer.user.id, clientAddress, data: {} });
    });
    viewer.user.password = hash;
    // The owner hears of it at the address password resets go to: a change they did not make is an alarm.
    const address = await this.coreKeys.read(em, viewer.user.id, 'email');
    if (address !== null) this.mailer.send(address, passwordChanged({ identifier: viewer.user.identifier }), 'passwordChanged');
    return true;
  }

  private async rehash(em: EntityManager, user: UserEntity, password: string): Promise<void> {
    const hash = await this.hasher.hash(password);
    await em.nativeUpdate(User, { id: user.id, password: user.password }, { password: hash });
    user.password = hash;
  }
}
