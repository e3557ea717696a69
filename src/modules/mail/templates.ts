/**
 * The service's mail templates. Each one renders a plain-text and an HTML version of the same
 * message; every value interpolated into the HTML is escaped. Subjects are fixed strings (no
 * user input in headers).
 */

/** A rendered message, ready for `Mailer.send`. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
  /**
   * When the token the message carries stops working (token mails only). The outbox keeps the
   * message until then and deletes it afterwards; notices without a token leave it unset.
   */
  expiresAt?: Date;
}

/** Data of a mail carrying a single-use token (email confirmation, password reset). */
export interface TokenMailData {
  /** The account's identifier, as the user entered it. */
  identifier: string;
  /** Absolute URL of the front-end page that consumes `token` (built from `PUBLIC_URL`). */
  link: string;
  /** The raw token, printed too for API clients without a web front end. */
  token: string;
  /** When the token stops working. */
  expiresAt: Date;
}

/** Data of the notice sent to the old address once an email change took effect. */
export interface EmailChangedData {
  identifier: string;
  /** The address the account uses from now on. */
  newAddress: string;
}

/** Data of the notice that the password was changed. */
export interface PasswordChangedData {
  identifier: string;
}

/** Escapes `& < > " '` so a value is inert in HTML text and in quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `2025-06-01 14:30 UTC`: unambiguous whatever the reader's time zone. */
function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Joins paragraphs with blank lines, ending with a newline. */
function paragraphs(...parts: string[]): string {
  return `${parts.join('\n\n')}\n`;
}

/** A small, self-contained HTML document around already-escaped body markup. */
function htmlDocument(subject: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>' + escapeHtml(subject) + '</title></head>',
    '<body style="font-family: sans-serif; line-height: 1.5; color: #222;">',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const p = (html: string) => `<p>${html}</p>`;

/** A link as an anchor, but only for http(s) URLs; anything else is shown as text. */
function anchor(link: string): string {
  const text = escapeHtml(link);
  return /^https?:\/\//i.test(link) ? `<a href="${text}">${text}</a>` : text;
}

/** Email-address confirmation, sent to the address being confirmed (signup, email change). */
export function confirmEmail({ identifier, link, token, expiresAt }: TokenMailData): RenderedMail {
  const subject = 'Confirm your email address';
  const expires = formatUtc(expiresAt);
  const text = paragraphs(
    `Hello ${identifier},`,
    'Please confirm that this email address belongs to your account by opening this link:',
    link,
    'If your application asks for a confirmation code instead, use this one:',
    token,
    `The link and the code work once and expire at ${expires}.`,
    'If you did not sign up or change your email address, ignore this message: the address will not be confirmed.',
  );
  const html = htmlDocument(
    subject,
    [
      p(`Hello ${escapeHtml(identifier)},`),
      p('Please confirm that this email address belongs to your account by opening this link:'),
      p(anchor(link)),
      p('If your application asks for a confirmation code instead, use this one:'),
      p(`<code>${escapeHtml(token)}</code>`),
      p(`The link and the code work once and expire at ${escapeHtml(expires)}.`),
      p('If you did not sign up or change your email address, ignore this message: the address will not be confirmed.'),
    ].join('\n'),
  );
  return { subject, text, html, expiresAt };
}

/** Notice sent to the OLD address once the account's email address was changed. */
export function emailChanged({ identifier, newAddress }: EmailChangedData): RenderedMail {
  const subject = 'Your email address was changed';
  const lines = [
    `The email address of your account ${identifier} was changed to ${newAddress}. From now on, messages about your account go to that address.`,
    'If you made this change, there is nothing more to do.',
    'If you did not, someone else may have access to your account: reset your password as soon as possible.',
  ];
  const text = paragraphs(`Hello ${identifier},`, ...lines);
  const html = htmlDocument(
    subject,
    [
      p(`Hello ${escapeHtml(identifier)},`),
      p(
        `The email address of your account <strong>${escapeHtml(identifier)}</strong> was changed to ` +
          `<strong>${escapeHtml(newAddress)}</strong>. From now on, messages about your account go to that address.`,
      ),
      p(escapeHtml(lines[1]!)),
      p(escapeHtml(lines[2]!)),
    ].join('\n'),
  );
  return { subject, text, html };
}

/** Password-reset link, sent on request to the account's confirmed address. */
export function passwordReset({ identifier, link, token, expiresAt }: TokenMailData): RenderedMail {
  const subject = 'Reset your password';
  const expires = formatUtc(expiresAt);
  const text = paragraphs(
    `Hello ${identifier},`,
    'Someone, hopefully you, asked to reset the password of your account. To choose a new password, open this link:',
    link,
    'If your application asks for a reset code instead, use this one:',
    token,
    `The link and the code work once and expire at ${expires}.`,
    'If you did not ask for this, ignore this message: your password stays as it is.',
  );
  const html = htmlDocument(
    subject,
    [
      p(`Hello ${escapeHtml(identifier)},`),
      p('Someone, hopefully you, asked to reset the password of your account. To choose a new password, open this link:'),
      p(anchor(link)),
      p('If your application asks for a reset code instead, use this one:'),
      p(`<code>${escapeHtml(token)}</code>`),
      p(`The link and the code work once and expire at ${escapeHtml(expires)}.`),
      p('If you did not ask for this, ignore this message: your password stays as it is.'),
    ].join('\n'),
  );
  return { subject, text, html, expiresAt };
}

/** Notice that the account's password was changed (by the user or through a reset). */
export function passwordChanged({ identifier }: PasswordChangedData): RenderedMail {
  const subject = 'Your password was changed';
  const lines = [
    'If you made this change, there is nothing more to do.',
    'If you did not, someone else may have access to your account: reset your password right away.',
  ];
  const text = paragraphs(`Hello ${identifier},`, `The password of your account ${identifier} was changed.`, ...lines);
  const html = htmlDocument(
    subject,
    [
      p(`Hello ${escapeHtml(identifier)},`),
      p(`The password of your account <strong>${escapeHtml(identifier)}</strong> was changed.`),
      ...lines.map((l) => p(escapeHtml(l))),
    ].join('\n'),
  );
  return { subject, text, html };
}

/** Every template by name; the names are what `Mailer.send` records as `template`. */
export const templates = { confirmEmail, emailChanged, passwordReset, passwordChanged } as const;

/** The name of a template. */
export type MailTemplateName = keyof typeof templates;

/** A template with its data, as one tagged value (`{ name: 'passwordReset', data: {...} }`). */
export type MailTemplate = {
  [N in MailTemplateName]: { name: N; data: Parameters<(typeof templates)[N]>[0] };
}[MailTemplateName];

/** Renders a tagged template; equivalent to calling the named function with `data`. */
export function render(template: MailTemplate): RenderedMail {
  switch (template.name) {
    case 'confirmEmail':
      return confirmEmail(template.data);
    case 'emailChanged':
      return emailChanged(template.data);
    case 'passwordReset':
      return passwordReset(template.data);
    case 'passwordChanged':
      return passwordChanged(template.data);
  }
}
