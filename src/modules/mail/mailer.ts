import type { EntityManager } from '@mikro-orm/postgresql';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { MailOutboxMessage } from './mail.entity.ts';
import type { RenderedMail } from './templates.ts';

/** One message as handed to a transport. `text` and `html` may hold tokens: never log them. */
export interface OutgoingMail {
  /** Recipient address. */
  to: string;
  /** Template name (`confirmEmail`, ...), recorded by the outbox and in logs. */
  template: string;
  subject: string;
  text: string;
  html: string;
  /** When the token in the message stops working (`RenderedMail.expiresAt`); unset for notices. */
  expiresAt?: Date;
}

/**
 * How long the outbox keeps a message that carries no token (a notice such as
 * `passwordChanged`): 24 hours, the longest default token lifetime. In milliseconds.
 */
export const OUTBOX_NOTICE_RETENTION_MS = 24 * 3600 * 1000;

/**
 * Where mail goes. `deliver` resolves once the message is accepted (stored, relayed to the
 * SMTP server, captured) and rejects on failure; `Mailer` turns rejections into log lines.
 */
export interface MailTransport {
  deliver(mail: OutgoingMail): Promise<void>;
  /** Releases connections, if the transport holds any. Call after `Mailer.drain()`. */
  close?(): void | Promise<void>;
}

/**
 * The default transport: stores every message in `mail_outbox` and logs one info line
 * `{ to, template, subject }` (never the body, which holds tokens). Nothing leaves the
 * machine, so a fresh checkout or a test deployment cannot mail real people by accident,
 * and links remain readable with SQL.
 *
 * Each row expires with its token (`expires_at` = `mail.expiresAt`, or now +
 * {@link OUTBOX_NOTICE_RETENTION_MS} for a notice), and every delivery then deletes all rows
 * past their expiry (one indexed `DELETE`), so the table never holds a dead link for long and
 * never grows without bound. A failed prune is logged (warn) and does not fail the delivery.
 *
 * Takes the ORM's root `EntityManager` and forks it per delivery: deliveries run after the
 * caller's request, outside its unit of work. Rejects when the insert fails.
 */
export class OutboxTransport implements MailTransport {
  constructor(
    private readonly em: EntityManager,
    private readonly logger: Logger,
  ) {}

  async deliver(mail: OutgoingMail): Promise<void> {
    const em = this.em.fork();
    const now = new Date();
    await em.insert(MailOutboxMessage, {
      recipient: mail.to,
      subject: mail.subject,
      template: mail.template,
      textBody: mail.text,
      htmlBody: mail.html,
      createdAt: now,
      expiresAt: mail.expiresAt ?? new Date(now.getTime() + OUTBOX_NOTICE_RETENTION_MS),
    });
    this.logger.info({ to: mail.to, template: mail.template, subject: mail.subject }, 'mail stored in outbox');
    try {
      await em.nativeDelete(MailOutboxMessage, { expiresAt: { $lte: now } });
    } catch (err) {
      this.logger.warn({ err }, 'pruning expired mail from the outbox failed');
    }
  }
}

/** Options of {@link SmtpTransport}. */
export interface SmtpTransportOptions {
  /**
   * A ready nodemailer transporter to use instead of `createTransport(smtpUrl)`; tests pass one
   * built with `{ streamTransport: true }` or `{ jsonTransport: true }`.
   */
  transporter?: Transporter;
}

/**
 * Sends through an SMTP server with nodemailer. `smtpUrl` is a nodemailer connection URL
 * (`smtp://user:pass@host:587`, `smtps://...:465`; options such as `?pool=true` go in the
 * query string); it holds credentials, so it is never logged. `from` is the sender of every
 * message (`"Name <address>"`). `deliver` rejects with nodemailer's error when the server
 * refuses the message or cannot be reached. Call `close()` at shutdown.
 */
export class SmtpTransport implements MailTransport {
  private readonly transporter: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    options: SmtpTransportOptions = {},
  ) {
    this.transporter = options.transporter ?? nodemailer.createTransport(smtpUrl);
  }

  async deliver(mail: OutgoingMail): Promise<void> {
    await this.transporter.sendMail({
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  }

  /** Closes the transporter's connections (a message being sent finishes first). */
  close(): void {
    this.transporter.close();
  }
}

/**
 * A transport for tests: keeps every delivered message in `messages`, in order. Delivery
 * happens after the response that caused it, so tests wait with {@link CaptureTransport.waitFor}.
 */
export class CaptureTransport implements MailTransport {
  /** Every message delivered so far, oldest first. */
  readonly messages: OutgoingMail[] = [];
  private readonly waiters = new Set<(mail: OutgoingMail) => void>();

  async deliver(mail: OutgoingMail): Promise<void> {
    this.messages.push(mail);
    for (const notify of [...this.waiters]) notify(mail);
  }

  /**
   * Resolves with the first message (already delivered or yet to come) matching `predicate`;
   * rejects with an `Error` after `timeoutMs` without one, or if `predicate` throws.
   */
  waitFor(predicate: (mail: OutgoingMail) => boolean = () => true, timeoutMs = 5000): Promise<OutgoingMail> {
    return new Promise<OutgoingMail>((resolve, reject) => {
      // eslint-disable-next-line prefer-const -- assigned after `finish`, which clears it
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: unknown, mail?: OutgoingMail) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        if (mail) resolve(mail);
        else reject(error instanceof Error ? error : new Error(String(error)));
      };
      const check = (mail: OutgoingMail): boolean => {
        try {
          if (!predicate(mail)) return false;
        } catch (error) {
          finish(error);
          return true;
        }
        finish(undefined, mail);
        return true;
      };
      for (const mail of this.messages) if (check(mail)) return;
      this.waiters.add(check);
      timer = setTimeout(() => finish(new Error(`CaptureTransport.waitFor: no matching message within ${timeoutMs} ms`)), timeoutMs);
    });
  }

  /** Forgets the captured messages (pending `waitFor` calls keep waiting). */
  clear(): void {
    this.messages.length = 0;
  }
}

/** Options of {@link Mailer}. */
export interface MailerOptions {
  /** Sender address (`MAIL_FROM`); the SMTP transport is built with the same value. */
  from: string;
  logger: Logger;
  /** Called once per delivery with how it ended (metrics). */
  onOutcome?: (outcome: 'delivered' | 'failed') => void;
}

/**
 * Fire-and-forget mail sending. Callers invoke `send` after their transaction committed;
 * `send` returns at once and never throws: the delivery runs on a later turn of the event
 * loop, and a failure is logged (`logger.error({ err, template })`) rather than surfaced,
 * so a mail problem never breaks the response that triggered it. A failed delivery (SMTP
 * server down, refused connection) is not retried: it is logged once and dropped, and the
 * user asks again (the token mail quotas count the attempt). In-flight deliveries are
 * tracked so `drain()` can await them (graceful shutdown, tests).
 */
export class Mailer {
  /** Sender address this mailer was configured with. */
  readonly from: string;
  private readonly logger: Logger;
  private readonly onOutcome: MailerOptions['onOutcome'];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly transport: MailTransport,
    options: MailerOptions,
  ) {
    this.from = options.from;
    this.logger = options.logger;
    this.onOutcome = options.onOutcome;
  }

  /**
   * Schedules delivery of `rendered` to `to`, recorded under `templateName`. Returns
   * immediately; never throws.
   */
  send(to: string, rendered: RenderedMail, templateName: string): void {
    try {
      const mail: OutgoingMail = {
        to,
        template: templateName,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        ...(rendered.expiresAt ? { expiresAt: rendered.expiresAt } : {}),
      };
      const delivery = this.deliver(mail);
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    } catch (err) {
      this.logFailure(err, templateName);
    }
  }

  /** Number of deliveries scheduled and not yet settled. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Resolves once every delivery scheduled so far, and any scheduled while waiting, has
   * settled (delivered or logged as failed). Never rejects.
   */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Drains, then closes the transport (errors while closing are logged). For shutdown. */
  async close(): Promise<void> {
    await this.drain();
    try {
      await this.transport.close?.();
    } catch (err) {
      this.logger.error({ err }, 'closing the mail transport failed');
    }
  }

  /** One delivery, on a later turn of the event loop; settles, never rejects. */
  private async deliver(mail: OutgoingMail): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      await this.transport.deliver(mail);
    } catch (err) {
      this.onOutcome?.('failed');
      this.logFailure(err, mail.template);
      return;
    }
    this.onOutcome?.('delivered');
    try {
      this.logger.debug({ template: mail.template }, 'mail delivered');
    } catch {
      // Logging is best effort.
    }
  }

  private logFailure(err: unknown, template: string): void {
    try {
      this.logger.error({ err, template }, 'mail delivery failed');
    } catch {
      // A failing logger must not turn into an unhandled rejection either.
    }
  }
}

/** Mail settings, as in `Config` (`MAIL_TRANSPORT`, `SMTP_URL`, `MAIL_FROM`). */
export interface MailTransportConfig {
  transport: 'outbox' | 'smtp';
  smtpUrl?: string;
  from: string;
}

/**
 * Builds the configured transport: `outbox` (default) → {@link OutboxTransport} on `deps.em`
 * (the root EntityManager), `smtp` → {@link SmtpTransport}. Throws an `Error` at startup if
 * `smtp` is chosen without `smtpUrl` (config validation normally catches that first).
 */
export function createMailTransport(config: MailTransportConfig, deps: { em: EntityManager; logger: Logger }): MailTransport {
  if (config.transport === 'smtp') {
    if (!config.smtpUrl) throw new Error('SMTP_URL is required when MAIL_TRANSPORT is smtp');
    return new SmtpTransport(config.smtpUrl, config.from);
  }
  return new OutboxTransport(deps.em, deps.logger);
}
