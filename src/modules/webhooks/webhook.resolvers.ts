import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import type { WebhookService } from './webhooks.ts';

/** Resolvers of the webhook administration: `webhooks`, `createWebhook`, `deleteWebhook`, `Webhook.deliveries`. */
export function webhookResolvers(services: { webhooks: WebhookService }): Resolvers {
  const { webhooks } = services;
  return {
    Query: {
      webhooks: (_root, _args, ctx) => webhooks.list(ctx),
    },
    Mutation: {
      createWebhook: (_root, { url, events }, ctx) => webhooks.create(ctx, url, events),
      deleteWebhook: (_root, { id }, ctx) => webhooks.delete(ctx, id),
    },
    Webhook: {
      // A Webhook is only ever reached through the superuser-only fields above.
      deliveries: (webhook, { first }, ctx) => webhooks.deliveries(ctx.em, webhook.id, first ?? 20),
    },
  };
}
