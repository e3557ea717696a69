import type { EntityManager } from '@mikro-orm/postgresql';
import { parseId } from '../../ids.ts';
import { cursors, pageInfo } from '../../pagination.ts';

/** Cursors are event ids (keyset pagination). */
const keys = cursors('a');

/** Reads of the audit trail (writes go through the EventBus). */
export class AuditService {
  constructor(private readonly pageSize: { defaultSize: number; maxSize: number }) {}

  /**
   * A page of audit events, newest first, keyset-paginated by id; filtered by `type` and by
   * `userId` as actor or subject. One statement.
   */
  async page(em: EntityManager, args: { first?: number | null; after?: string | null; type?: string | null; userId?: string | null }) {
    const size = Math.min(Math.max(args.first ?? this.pageSize.defaultSize, 0), this.pageSize.maxSize);
    const where: string[] = [];
    const params: unknown[] = [];
    if (args.after) {
      where.push('id < ?');
      params.push(keys.decode(args.after));
    }
    if (args.type) {
      where.push('type = ?');
      params.push(args.type);
    }
    if (args.userId) {
      parseId(args.userId, 'userId');
      where.push('(actor_id = ? or subject_id = ?)');
      params.push(args.userId, args.userId);
    }
    const rows = await em.execute<Record<string, unknown>[]>(
      `select id, type, actor_id, subject_id, client_address, data, created_at from audit_events
        ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit ?`,
      [...params, size + 1],
    );
    const edges = rows.slice(0, size).map((r) => ({
      cursor: keys.encode(String(r.id)),
      node: {
        id: String(r.id),
        type: r.type as string,
        actorId: r.actor_id == null ? null : String(r.actor_id as string | number),
        subjectId: r.subject_id == null ? null : String(r.subject_id as string | number),
        clientAddress: (r.client_address as string | null) ?? null,
        data: r.data,
        at: new Date(r.created_at as string),
      },
    }));
    return { edges, pageInfo: pageInfo(edges, rows.length > size, Boolean(args.after)) };
  }
}
