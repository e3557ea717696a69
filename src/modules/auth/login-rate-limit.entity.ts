import { defineEntity, p } from '@mikro-orm/core';

/**
 * `login_rate_limits`: the store of `rate-limiter-flexible`'s PostgreSQL limiter
 * (its own column layout: `key`, `points`, `expire` in epoch milliseconds). Declared as an
 * entity only so that migrations own the table; the limiter reads and writes it directly.
 */
export const LoginRateLimit = defineEntity({
  name: 'LoginRateLimit',
  tableName: 'login_rate_limits',
  properties: {
    key: p.string().length(255).primary(),
    points: p.integer().default(0),
    expire: p.bigint('number').nullable(),
  },
});
