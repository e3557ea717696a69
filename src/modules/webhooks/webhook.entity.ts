import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * `webhooks`: an endpoint staff registered. `events` is a JSON array of event types
 * (`"user.signup"`, `"profile.changed"`, …) or `["*"]` for all. `secret` is the Standard
 * Webhooks signing secret (`whsec_` + base64 of 24 random bytes), kept as given to sign each
 * delivery; it is shown once, when the webhook is created.
 */
export const Webhook = defineEntity({
  name: 'Webhook',
  tableName: 'webhooks',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    url: p.text(),
    events: p.json<string[]>(),
    secret: p.text(),
    createdBy: p.bigint('string').nullable(),
    createdAt: p.datetime(),
  },
});

/**
 * `webhook_deliveries`: the transactional outbox of webhooks. A row is written in the same
 * transaction as the event it carries (so a rolled-back change sends nothing and a committed
 * one is never lost), then delivered by the dispatcher: `pending` until a 2xx answer
 * (`delivered`) or the last attempt (`failed`). `payload` is the JSON body sent, identical on
 * every attempt, as is the `webhook-id` header (`msg_<id>`).
 */
export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  indexes: [{ name: 'webhook_deliveries_due_index', properties: ['status', 'nextAttemptAt'] }],
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    webhook: p.manyToOne(Webhook).deleteRule('cascade').index('webhook_deliveries_webhook_id_index'),
    eventId: p.bigint('string'),
    eventType: p.text(),
    payload: p.json(),
    status: p.enum(['pending', 'delivered', 'failed'] as const),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().nullable(),
    lastAttemptAt: p.datetime().nullable(),
    lastStatusCode: p.integer().nullable(),
    lastError: p.text().nullable(),
    deliveredAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});

export type WebhookEntity = InferEntity<typeof Webhook>;
