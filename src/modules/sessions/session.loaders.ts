import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SessionRow, SessionService } from './session.service.ts';

/** Per-request DataLoader of users' live sessions by user id (one statement per batch). */
export function sessionLoader(em: EntityManager, sessions: SessionService): DataLoader<string, SessionRow[]> {
  return new DataLoader((userIds: readonly string[]) => sessions.listFor(em, userIds), { maxBatchSize: 1000 });
}
