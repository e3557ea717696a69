import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * `mail_outbox`: every message sent through the local outbox transport (the default; see
 * `OutboxTransport` in mailer.ts). A development or staging instance keeps its mail here
 * instead of sending it, so confirmation and reset links can be read back with SQL.
 *
 * `textBody` and `htmlBody` hold single-use tokens: treat the table as secret. `expiresAt` is
 * the expiry of the token a message carries (a notice without a token keeps
 * `OUTBOX_NOTICE_RETENTION_MS`, mailer.ts); every delivery deletes the rows past it, so the
 * outbox holds no dead links and no mail older than its token. Nothing here is read by the
 * service itself. Production refuses this transport unless `MAIL_OUTBOX_IN_PRODUCTION=true`.
 */
export const MailOutboxMessage = defineEntity({
  name: 'MailOutboxMessage',
  tableName: 'mail_outbox',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    recipient: p.text(),
    subject: p.text(),
    template: p.text(),
    textBody: p.text(),
    htmlBody: p.text(),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    expiresAt: p.datetime().index('mail_outbox_expires_at_index'),
  },
});

export type MailOutboxMessageEntity = InferEntity<typeof MailOutboxMessage>;
