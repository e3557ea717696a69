import { defineEntity, p } from '@mikro-orm/core';

/**
 * `audit_events`: every service event (signup, login, login failure, logout, password
 * change and reset, email confirmation, follow and permission changes), newest last. The
 * actor and subject are user ids kept as plain numbers so the trail outlives deleted users.
 * Payloads never hold passwords or tokens.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    type: p.string().length(64).index('audit_events_type_index'),
    actorId: p.bigint('string').nullable(),
    subjectId: p.bigint('string').nullable().index('audit_events_subject_id_index'),
    clientAddress: p.string().length(64).nullable(),
    data: p.json<Record<string, unknown>>(),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
  },
});
