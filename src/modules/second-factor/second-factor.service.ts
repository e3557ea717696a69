import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Clock } from '../../clock.ts';
import { appError, ErrorCode } from '../../errors.ts';
import { sql } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { LoginThrottle } from '../auth/login-throttle.ts';
import type { Reauthentication } from '../auth/reauthentication.ts';
import { identifierKey } from '../users/identifier.ts';
import type { EventBus } from '../events/events.ts';
import { hashToken } from '../sessions/session.service.ts';
import type { UserEntity } from '../users/user.entity.ts';
import type { SecretBox } from './secret-box.ts';

/** What this module needs of the configuration. */
export interface SecondFactorConfig {
  /** `issuer` of the otpauth URI: the name authenticator apps show (`TOTP_ISSUER`). */
  issuer: string;
  /** Lifetime of a login challenge, in ms (`SECOND_FACTOR_CHALLENGE_SECONDS`). */
  challengeTtlMs: number;
}

/** The methods that can pass a login's second step. */
export type SecondFactorMethod = 'TOTP' | 'RECOVERY_CODE';

/** A user's second factors as the API shows them to the user and staff. */
export interface SecondFactorStatus {
  totpEnabled: boolean;
  recoveryCodesRemaining: number;
}

/** RFC 6238 parameters every authenticator app supports: HMAC-SHA-1, 6 digits, 30-second steps. */
const TOTP_PARAMETERS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** Accepted steps either side of the current one (clock drift between server and phone). */
const TOTP_WINDOW = 1;
/** Recovery codes issued at confirmation (and each regeneration). */
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A recovery code: 12 characters of an unambiguous alphabet (about 59 bits), shown as `xxxx-xxxx-xxxx`. */
function newRecoveryCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

/** Codes compare without dashes, spaces or case. */
function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

function recoveryHash(code: string): Buffer {
  return createHash('sha256').update(normalizeRecoveryCode(code), 'utf8').digest();
}

/**
 * Second factors (SPEC §8): TOTP (RFC 6238, the `otpauth` package; QR codes by `qrcode`) with
 * single-use recovery codes, and the login challenge between the password and the second
 * factor. Secrets are encrypted at rest ({@link SecretBox}); recovery codes and challenges are
 * stored as SHA-256 only. A TOTP code is accepted for the current step ±1, and never for a step
 * at or before the last one accepted (no replay, even within its 30 seconds).
 */
export class SecondFactorService {
  constructor(
    private readonly config: SecondFactorConfig,
    private readonly box: SecretBox,
    private readonly reauthentication: Reauthentication,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly throttle: LoginThrottle,
  ) {}

  /**
   * Checks and spends the viewer's `code` under the login limiter (the session is a known client
   * of its account): a failure counts like a wrong password and is an `auth.second_factor_failed`
   * event. Errors: `INVALID_CREDENTIALS`, `RATE_LIMITED`.
   */
  /**
   * What changing an enabled second factor takes: the viewer's password, TOTP enabled, and a
   * current code ({@link requireCode}). Returns the viewer. Errors: `UNAUTHENTICATED`,
   * `INVALID_CREDENTIALS`, `RATE_LIMITED`, `BAD_USER_INPUT` (TOTP not enabled).
   */
  private async requirePasswordAndCode(scope: RequestScope, password: string, code: string) {
    const viewer = requireViewer(scope);
    await this.reauthentication.verify(scope, password);
    if (!(await this.isEnrolled(scope.em, viewer.user.id))) throw appError(ErrorCode.BAD_USER_INPUT, 'TOTP is not enabled.');
    await this.requireCode(scope, code);
    return viewer;
  }

  private async requireCode(scope: RequestScope, code: string): Promise<void> {
    const viewer = requireViewer(scope);
    const key = identifierKey(viewer.user.identifier);
    const client = { address: scope.clientAddress, device: viewer.id && `session:${viewer.id}` };
    await this.throttle.consume(key, client);
    // Outside any transaction: a refused code is recorded (the event), a passed one is spent.
    if (!(await this.checkCode(scope.em, viewer.user, code))) {
      const method = /^\s*\d{6}\s*$/.test(code) ? 'TOTP' : 'RECOVERY_CODE';
      await this.events.emit(scope.em, {
        type: 'auth.second_factor_failed',
        actorId: viewer.user.id,
        subjectId: viewer.user.id,
        clientAddress: scope.clientAddress,
        data: { identifier: viewer.user.identifier, method },
      });
      throw appError(ErrorCode.INVALID_CREDENTIALS, 'The code is wrong or was already used.');
    }
    await this.throttle.succeeded(key, client);
  }

  /** Whether `userId` has a confirmed second factor. */
  async isEnrolled(em: EntityManager, userId: string): Promise<boolean> {
    const [row] = await execute(em, sql`select 1 from totp_credentials where user_id = ${userId} and confirmed_at is not null`);
    return row !== undefined;
  }

  /** The user's second factors (totp, remaining recovery codes): one statement. */
  async status(em: EntityManager, userId: string): Promise<SecondFactorStatus> {
    const [row] = await execute<{ totp: boolean; codes: string | number }[]>(
      em,
      sql`select exists(select 1 from totp_credentials where user_id = ${userId} and confirmed_at is not null) as totp,
                 (select count(*) from recovery_codes where user_id = ${userId} and used_at is null) as codes`,
    );
    return { totpEnabled: Boolean(row?.totp), recoveryCodesRemaining: Number(row?.codes ?? 0) };
  }

  /**
   * Starts (or restarts) TOTP enrolment for the viewer: a new 160-bit secret, stored encrypted and
   * unconfirmed. Returns the `otpauth://totp/…` URI and the same as a QR code (PNG data URL).
   * Needs the current password or a fresh login. Errors: `UNAUTHENTICATED`, `FORBIDDEN`
   * (`reason: CURRENT_PASSWORD_REQUIRED`), `INVALID_CREDENTIALS`, `RATE_LIMITED`, `BAD_USER_INPUT`
   * (TOTP already enabled: disable it first).
   */
  async startTotpEnrollment(scope: RequestScope, currentPassword: string | null | undefined): Promise<{ otpauthUri: string; qrCodeDataUrl: string }> {
    const viewer = requireViewer(scope);
    await this.reauthentication.require(scope, currentPassword, 'your second factor');
    if (await this.isEnrolled(scope.em, viewer.user.id)) {
      throw appError(ErrorCode.BAD_USER_INPUT, 'TOTP is already enabled; disable it first to enrol a new authenticator.');
    }
    const secret = new Secret({ size: 20 });
    const totp = this.totp(secret, viewer.user);
    await execute(
      scope.em,
      sql`insert into totp_credentials (user_id, secret, confirmed_at, last_used_step, created_at) values (${viewer.user.id}, ${this.box.seal(secret.base32)}, null, null, ${this.clock.now()})
          on conflict (user_id) do update set secret = excluded.secret, confirmed_at = null, last_used_step = null, created_at = excluded.created_at`,
      'run',
    );
    const otpauthUri = totp.toString();
    return { otpauthUri, qrCodeDataUrl: await QRCode.toDataURL(otpauthUri) };
  }

  /**
   * Confirms the pending enrolment with a code from the authenticator, enables TOTP and returns
   * {@link RECOVERY_CODE_COUNT} recovery codes, shown only here. Errors: `UNAUTHENTICATED`,
   * `BAD_USER_INPUT` (no enrolment started; field `code`: wrong code).
   */
  async confirmTotp(scope: RequestScope, code: string): Promise<string[]> {
    const viewer = requireViewer(scope);
    return scope.em.transactional(async (tx) => {
      const [row] = await execute(tx, sql`select secret, confirmed_at from totp_credentials where user_id = ${viewer.user.id} for update`);
      if (!row || row.confirmed_at) throw appError(ErrorCode.BAD_USER_INPUT, 'No TOTP enrolment is waiting for confirmation: call startTotpEnrollment first.');
      const step = this.acceptedStep(String(row.secret), viewer.user, code, null);
      if (step === null)
        throw appError(ErrorCode.BAD_USER_INPUT, 'The code is wrong.', { fields: { code: 'The code is wrong: enter the 6 digits the app shows now.' } });
      await execute(tx, sql`update totp_credentials set confirmed_at = ${this.clock.now()}, last_used_step = ${step} where user_id = ${viewer.user.id}`, 'run');
      const codes = await this.replaceRecoveryCodes(tx, viewer.user.id);
      await this.events.emit(tx, {
        type: 'auth.second_factor_enabled',
        actorId: viewer.user.id,
        subjectId: viewer.user.id,
        clientAddress: scope.clientAddress,
        data: { method: 'TOTP' },
      });
      return codes;
    });
  }

  /**
   * Turns TOTP off after checking the password and a current code (or a recovery code); removes
   * the recovery codes. Errors: `UNAUTHENTICATED`, `INVALID_CREDENTIALS` (wrong password or code),
   * `RATE_LIMITED`, `BAD_USER_INPUT` (TOTP not enabled).
   */
  async disableTotp(scope: RequestScope, password: string, code: string): Promise<boolean> {
    const viewer = await this.requirePasswordAndCode(scope, password, code);
    await scope.em.transactional(async (tx) => {
      await execute(tx, sql`delete from totp_credentials where user_id = ${viewer.user.id}`, 'run');
      await execute(tx, sql`delete from recovery_codes where user_id = ${viewer.user.id}`, 'run');
      await this.events.emit(tx, {
        type: 'auth.second_factor_disabled',
        actorId: viewer.user.id,
        subjectId: viewer.user.id,
        clientAddress: scope.clientAddress,
        data: { method: 'TOTP' },
      });
    });
    return true;
  }

  /**
   * Replaces the viewer's recovery codes with new ones (the old ones stop working), after
   * checking the password and a current code (TOTP or recovery): a stolen session and password
   * alone cannot mint a second factor. Errors: `UNAUTHENTICATED`, `INVALID_CREDENTIALS`,
   * `RATE_LIMITED`, `BAD_USER_INPUT` (TOTP not enabled).
   */
  async regenerateRecoveryCodes(scope: RequestScope, password: string, code: string): Promise<string[]> {
    const viewer = await this.requirePasswordAndCode(scope, password, code);
    return scope.em.transactional((tx) => this.replaceRecoveryCodes(tx, viewer.user.id));
  }

  /**
   * A new login challenge for `userId` bound to `clientAddress` (the token: 256 bits,
   * base64url; only its hash is stored), with the methods that can answer it.
   */
  async issueChallenge(em: EntityManager, userId: string, clientAddress: string): Promise<{ challenge: string; methods: SecondFactorMethod[] }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await execute(
      em,
      sql`insert into login_challenges (user_id, token_hash, client_address, created_at, expires_at) values (${userId}, ${hashToken(token)}, ${clientAddress}, ${now}, ${new Date(now.getTime() + this.config.challengeTtlMs)})`,
      'run',
    );
    return { challenge: token, methods: ['TOTP', 'RECOVERY_CODE'] };
  }

  /** The live, unspent challenge `token` issued to `clientAddress`: its id and user id, or null. */
  async findChallenge(em: EntityManager, token: string, clientAddress: string): Promise<{ id: string; userId: string } | null> {
    const [row] = await execute(
      em,
      sql`select id, user_id from login_challenges where token_hash = ${hashToken(token)} and used_at is null and expires_at > ${this.clock.now()} and client_address = ${clientAddress}`,
    );
    return row ? { id: String(row.id), userId: String(row.user_id) } : null;
  }

  /** Spends a challenge; false when another request spent it first (single use). */
  async spendChallenge(em: EntityManager, id: string): Promise<boolean> {
    const result = await execute<{ affectedRows: number }>(
      em,
      sql`update login_challenges set used_at = ${this.clock.now()} where id = ${id} and used_at is null`,
      'run',
    );
    return result.affectedRows > 0;
  }

  /**
   * Checks a second-factor code of `user` and spends it: a 6-digit TOTP code (its step becomes
   * the last used) or a recovery code (marked used). False for a wrong, replayed or spent code.
   */
  async checkCode(em: EntityManager, user: UserEntity, code: string): Promise<boolean> {
    const trimmed = code.replace(/\s/g, '');
    if (/^\d{6}$/.test(trimmed)) {
      const [row] = await execute(
        em,
        sql`select secret, last_used_step from totp_credentials where user_id = ${user.id} and confirmed_at is not null for update`,
      );
      if (!row) return false;
      const step = this.acceptedStep(String(row.secret), user, trimmed, row.last_used_step == null ? null : Number(row.last_used_step));
      if (step === null) return false;
      const updated = await execute<{ affectedRows: number }>(
        em,
        sql`update totp_credentials set last_used_step = ${step} where user_id = ${user.id} and (last_used_step is null or last_used_step < ${step})`,
        'run',
      );
      return updated.affectedRows > 0;
    }
    const used = await execute<{ affectedRows: number }>(
      em,
      sql`update recovery_codes set used_at = ${this.clock.now()} where user_id = ${user.id} and code_hash = ${recoveryHash(trimmed)} and used_at is null`,
      'run',
    );
    return used.affectedRows > 0;
  }

  private totp(secret: Secret, user: UserEntity): TOTP {
    return new TOTP({ issuer: this.config.issuer, label: user.identifier, secret, ...TOTP_PARAMETERS });
  }

  /** The step `code` is valid for (current ±{@link TOTP_WINDOW}), when later than `lastUsedStep`; else null. */
  private acceptedStep(sealedSecret: string, user: UserEntity, code: string, lastUsedStep: number | null): number | null {
    const totp = this.totp(Secret.fromBase32(this.box.open(sealedSecret)), user);
    const timestamp = this.clock.now().getTime();
    const delta = totp.validate({ token: code, timestamp, window: TOTP_WINDOW });
    if (delta === null) return null;
    const step = totp.counter({ timestamp }) + delta;
    return lastUsedStep !== null && step <= lastUsedStep ? null : step;
  }

  private async replaceRecoveryCodes(tx: EntityManager, userId: string): Promise<string[]> {
    await execute(tx, sql`delete from recovery_codes where user_id = ${userId}`, 'run');
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const now = this.clock.now();
    for (const code of codes) {
      await execute(tx, sql`insert into recovery_codes (user_id, code_hash, created_at) values (${userId}, ${recoveryHash(code)}, ${now})`, 'run');
    }
    return codes;
  }
}
