import type { EntityManager } from '@mikro-orm/postgresql';
import type { BackgroundTasks } from '../../background.ts';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import { appError, badInput, ErrorCode } from '../../errors.ts';
import type { ProfileDefinition, ProfileField } from '../../profiles/model.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import type { ProfileWriter } from '../profiles/profile.writer.ts';
import { confirmEmail, emailChanged } from '../mail/templates.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { MailQuota } from '../mail/mail-quota.ts';
import type { TokenService } from '../tokens/token.service.ts';
import type { UserEntity } from '../users/user.entity.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { EventBus } from '../events/events.ts';

/** The profile fields email confirmation works on: an email field and its confirmation time. */
interface ConfirmationFields {
  profile: ProfileDefinition;
  email: ProfileField;
  confirmedAt: ProfileField;
}

/**
 * Email confirmation (SPEC §6). It works on the installed profile that defines both an
 * `EmailAddress` field `email` and a `DateTime` field `emailConfirmedAt` (the shipped `mail`
 * profile); without one, or with `EMAIL_CONFIRMATION=none`, it is off.
 *
 * - Signup with an address mails a confirmation token; `confirm` stamps `emailConfirmedAt`.
 * - An owner's change of a confirmed address is held back: the new address gets a token, and
 *   only its confirmation replaces the old one, whose holder is then told.
 * - Mail is sent after the triggering transaction, by the mailer, never inline.
 */
export class EmailConfirmationService {
  private readonly fields: ConfirmationFields | undefined;

  constructor(
    private readonly config: Config,
    registry: ProfileRegistry,
    private readonly tokens: TokenService,
    private readonly mailer: Mailer,
    private readonly background: BackgroundTasks,
    private readonly rootEm: EntityManager,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    private readonly events: EventBus,
    private readonly writer: ProfileWriter,
    private readonly mailQuota: MailQuota,
  ) {
    // The core keys `email` and `emailConfirmedAt`, held together by one profile.
    const profile = registry.profiles.find(
      (p) => p.fields.some((f) => f.name === 'email' && f.kind === 'email') && p.fields.some((f) => f.name === 'emailConfirmedAt' && f.kind === 'datetime'),
    );
    this.fields =
      config.email.confirmation === 'none' || !profile
        ? undefined
        : { profile, email: profile.fields.find((f) => f.name === 'email')!, confirmedAt: profile.fields.find((f) => f.name === 'emailConfirmedAt')! };
  }

  /** Whether confirmation is on (a confirmation profile is installed and the mode is not `none`). */
  get enabled(): boolean {
    return this.fields !== undefined;
  }

  /** Name and field of the confirmed address, e.g. `mail` / `email`, when enabled. */
  get target(): { profile: string; field: string } | undefined {
    return this.fields && { profile: this.fields.profile.name, field: this.fields.email.name };
  }

  /**
   * Issues a confirmation token for `address` of `user` and mails it, after the caller's
   * transaction (runs in the background). `change`: the address is not stored yet and
   * replaces the current one on confirmation. At most `MAIL_QUOTA_PER_HOUR` (3) such mails
   * go to one address per hour (`MailQuota`): past that nothing is issued or sent (the last
   * mailed token keeps working) and a warn line is logged.
   */
  start(user: UserEntity, address: string, change: boolean): void {
    if (!this.fields) return;
    this.background.run('email confirmation', async () => {
      if (!(await this.mailQuota.allowConfirmation(user.id, address))) return;
      const ttl = this.config.email.confirmationTtlMs;
      const issued = await this.tokens.issue(this.rootEm.fork(), user.id, 'EMAIL_CONFIRMATION', ttl, { email: address, change });
      this.mailer.send(
        address,
        confirmEmail({ identifier: user.identifier, link: this.link('confirm-email', issued.token), token: issued.token, expiresAt: issued.expiresAt }),
        'confirmEmail',
      );
    });
  }

  /**
   * For an owner's write of profile values: when it changes a stored address, takes the new
   * address out of `values` and returns it as pending (to pass to `start(…, true)` after the
   * write). A first address is written as given (unconfirmed) and returned as `initial`.
   * Errors: `BAD_USER_INPUT` when another account already uses the new address.
   */
  async intercept(
    em: EntityManager,
    profile: ProfileDefinition,
    userId: string,
    values: Record<string, unknown>,
  ): Promise<{ values: Record<string, unknown>; pending?: string; initial?: string }> {
    const f = this.fields;
    if (!f || profile !== f.profile || !(f.email.name in values)) return { values };
    const next = values[f.email.name];
    const [current] = await em.execute<{ email: string | null; confirmed: unknown }[]>('select ?? as email, ?? as confirmed from ?? where user_id = ?', [
      f.email.column,
      f.confirmedAt.column,
      profile.table,
      userId,
    ]);
    if (typeof next !== 'string' || next === current?.email) return { values };
    if (!current?.email) return { values: { ...values, [f.confirmedAt.name]: null }, initial: next };
    const taken = await em.execute('select 1 from ?? where ?? = ? and user_id <> ?', [profile.table, f.email.column, next, userId]);
    if (taken.length) throw badInput({ [`${profile.name}.${f.email.name}`]: 'This address is already used by another account.' });
    const { [f.email.name]: _held, ...rest } = values;
    return { values: rest, pending: next };
  }

  /**
   * `confirmEmail(token)`: spends the token and marks its address confirmed, replacing the
   * stored address when the token was for a change (and telling the old address). Guesses
   * count against the client address's token limit. Errors: `INVALID_TOKEN`, `RATE_LIMITED`,
   * `BAD_USER_INPUT` (the address was taken meanwhile).
   */
  async confirm(em: EntityManager, token: string, clientAddress: string): Promise<boolean> {
    const f = this.fields;
    await this.throttle.consumeTokenGuess(clientAddress);
    if (!f) throw appError(ErrorCode.INVALID_TOKEN, 'This confirmation link is invalid or has expired.');
    let notify: { to: string; identifier: string; newAddress: string } | undefined;
    await em.transactional(async (tx) => {
      const grant = await this.tokens.consume(tx, token, 'EMAIL_CONFIRMATION');
      const address = grant?.payload?.email;
      if (!grant || typeof address !== 'string') throw appError(ErrorCode.INVALID_TOKEN, 'This confirmation link is invalid or has expired.');
      const [row] = await tx.execute<{ email: string | null; identifier: string }[]>(
        'select p.?? as email, u.identifier from users u left join ?? p on p.user_id = u.id where u.id = ?',
        [f.email.column, f.profile.table, grant.userId],
      );
      const change = grant.payload?.change === true;
      if (!change && row?.email !== address) throw appError(ErrorCode.INVALID_TOKEN, 'This confirmation link is for an address no longer on the account.');
      await this.writer.write(tx, f.profile, grant.userId, { [f.email.name]: address, [f.confirmedAt.name]: this.clock.now() }, () => 'token');
      if (change && row?.email && row.email !== address) notify = { to: row.email, identifier: row.identifier, newAddress: address };
      await this.events.emit(tx, {
        type: 'auth.email_confirmed',
        actorId: grant.userId,
        subjectId: grant.userId,
        clientAddress,
        data: { email: address, changed: change },
      });
    });
    await this.throttle.tokenSucceeded(clientAddress);
    if (notify) this.mailer.send(notify.to, emailChanged({ identifier: notify.identifier, newAddress: notify.newAddress }), 'emailChanged');
    return true;
  }

  /**
   * Tells `to`, an account's previous address, that staff replaced it with `newAddress`
   * (the `emailChanged` notice, sent by the mailer after the write committed).
   */
  noticeAddressChanged(to: string, identifier: string, newAddress: string): void {
    this.mailer.send(to, emailChanged({ identifier, newAddress }), 'emailChanged');
  }

  /**
   * `resendEmailConfirmation`: mails a new token for the viewer's unconfirmed address (the
   * previous token stops working), within the address's hourly quota (see `start`; past it
   * the answer is still true and the previous token stays valid). Errors: `BAD_USER_INPUT`
   * when there is nothing to confirm.
   */
  async resend(em: EntityManager, user: UserEntity): Promise<boolean> {
    const f = this.fields;
    if (!f) throw badInput({ email: 'Email confirmation is not enabled.' });
    const pending = await em.execute<{ payload: { email?: string; change?: boolean } }[]>(
      `select payload from user_tokens where user_id = ? and purpose = 'EMAIL_CONFIRMATION' and used_at is null order by id desc limit 1`,
      [user.id],
    );
    const [row] = await em.execute<{ email: string | null; confirmed: unknown }[]>('select ?? as email, ?? as confirmed from ?? where user_id = ?', [
      f.email.column,
      f.confirmedAt.column,
      f.profile.table,
      user.id,
    ]);
    const change = pending[0]?.payload?.change === true ? pending[0].payload.email : undefined;
    if (change) this.start(user, change, true);
    else if (row?.email && !row.confirmed) this.start(user, row.email, false);
    else throw badInput({ email: 'There is no unconfirmed address on this account.' });
    return true;
  }

  /** Whether `userId` has a confirmed address (true when confirmation is off). */
  async isConfirmed(em: EntityManager, userId: string): Promise<boolean> {
    const f = this.fields;
    if (!f) return true;
    const rows = await em.execute<{ confirmed: unknown }[]>('select ?? as confirmed from ?? where user_id = ?', [
      f.confirmedAt.column,
      f.profile.table,
      userId,
    ]);
    return Boolean(rows[0]?.confirmed);
  }

  private link(path: string, token: string): string {
    return `${this.config.email.publicUrl.replace(/\/$/, '')}/${path}?token=${encodeURIComponent(token)}`;
  }
}
