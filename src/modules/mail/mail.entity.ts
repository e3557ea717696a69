import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * `mail_outbox`: every message sent through the local outbox transport (the default; see
 * `OutboxTransport` in mailer.ts). A development or staging instance keeps its mail here
 * instead of sending it, so confirmation and reset links can be read back with SQL.
 *
 * `textBody` and `htmlBody` hold single-use tokens: treat the table as secret, and prune it
 * (nothing here is read by the service itself).
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
  },
});

export type MailOutboxMessageEntity = InferEntity<typeof MailOutboxMessage>;
