import { EventEmitter } from 'node:events';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';

/** Payload of each event type. Never a password or a token. */
export interface EventPayloads {
  'user.signup': { identifier: string };
  /** Staff (`actorId`) created the account (`createUser`). */
  'user.created': { identifier: string };
  'auth.login': { identifier: string; via: 'password' | 'trusted-header' | 'second-factor' };
  /** A login's second step failed (wrong, replayed or spent code). */
  'auth.second_factor_failed': { identifier: string; method: 'TOTP' | 'RECOVERY_CODE' };
  'auth.second_factor_enabled': { method: 'TOTP' };
  'auth.second_factor_disabled': { method: 'TOTP' };
  'auth.login_failed': { identifier: string; reason: 'invalid_credentials' | 'rate_limited' | 'email_not_confirmed' };
  'auth.logout': { allSessions: boolean };
  /** Sessions ended through the device list: `one` (revokeSession), `others` (logoutOthers), `all` (staff, revokeUserSessions). */
  'auth.sessions_revoked': { sessions: number; which: 'one' | 'others' | 'all' };
  'auth.password_changed': Record<string, never>;
  'auth.password_reset': Record<string, never>;
  /** Staff (`actorId`) set the password (`setPassword`, `usable`) or made it unusable (`setUnusablePassword`). */
  'auth.password_set': { usable: boolean };
  'auth.email_confirmed': { email: string; changed: boolean };
  'follow.changed': { action: 'followed' | 'requested' | 'confirmed' | 'rejected' | 'unfollowed' | 'removed'; followerId: string; followeeId: string };
  'permission.changed': Record<string, unknown>;
  /** The account was deleted, by its owner or by staff (`actorId`); the payload names nobody. */
  'account.deleted': { by: 'owner' | 'staff' };
  /**
   * A profile row of `subjectId` was written (any path but the bulk ones: `import:django`,
   * `seed:demo`): the profile and the qualified keys written (`"mail.email"`), never a value.
   */
  'profile.changed': { profile: string; keys: string[] };
}

/** Every event type, for validating subscriptions (webhooks). */
export const EVENT_TYPES = [
  'user.signup',
  'user.created',
  'auth.login',
  'auth.login_failed',
  'auth.second_factor_failed',
  'auth.second_factor_enabled',
  'auth.second_factor_disabled',
  'auth.logout',
  'auth.sessions_revoked',
  'auth.password_changed',
  'auth.password_reset',
  'auth.password_set',
  'auth.email_confirmed',
  'follow.changed',
  'permission.changed',
  'account.deleted',
  'profile.changed',
] as const satisfies readonly EventType[];

// Every key of EventPayloads is listed above (a missing one fails the type check here).
type Missing = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const everyTypeListed: Missing extends never ? true : Missing = true;
void everyTypeListed;

export type EventType = keyof EventPayloads;

/** One event: who did it (`actorId`), to whom (`subjectId`), from where, and its payload. */
export interface ServiceEvent<T extends EventType = EventType> {
  type: T;
  actorId: string | null;
  subjectId: string | null;
  data: EventPayloads[T];
  clientAddress?: string | null;
}

/** A stored event, as listeners and the audit query see it. */
export type RecordedEvent<T extends EventType = EventType> = ServiceEvent<T> & { id: string; at: Date };

/**
 * Typed service events: each is stored in `audit_events`, then handed to in-process
 * listeners (`on`), so code embedding the service can react to signups, logins, follows…
 * A failing listener is logged and does not affect the operation or other listeners.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recorders: ((em: EntityManager, event: RecordedEvent) => Promise<void>)[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** Subscribes to `type` (or `'*'` for every event). Returns the unsubscribe function. */
  on<T extends EventType>(type: T | '*', listener: (event: RecordedEvent<T>) => void | Promise<void>): () => void {
    const wrapped = (event: RecordedEvent<T>) => {
      try {
        void Promise.resolve(listener(event)).catch((err: unknown) => this.logger.error({ err, event: event.type }, 'event listener failed'));
      } catch (err) {
        this.logger.error({ err, event: event.type }, 'event listener failed');
      }
    };
    this.emitter.on(type, wrapped);
    return () => this.emitter.off(type, wrapped);
  }

  /**
   * Adds a step {@link emit} runs with the same EntityManager right after storing each event,
   * so it commits or rolls back with it (the webhook outbox). An error there fails the emit.
   */
  addRecorder(recorder: (em: EntityManager, event: RecordedEvent) => Promise<void>): void {
    this.recorders.push(recorder);
  }

  /** Stores `event` with `em` (inside the caller's transaction, if any), runs the recorders, then notifies listeners. */
  async emit<T extends EventType>(em: EntityManager, event: ServiceEvent<T>): Promise<RecordedEvent<T>> {
    const at = this.clock.now();
    const [row] = await em.execute<{ id: string }[]>(
      'insert into audit_events (type, actor_id, subject_id, client_address, data, created_at) values (?, ?, ?, ?, ?::jsonb, ?) returning id',
      [event.type, event.actorId, event.subjectId, event.clientAddress ?? null, JSON.stringify(event.data), at],
    );
    const recorded = { ...event, id: String(row!.id), at };
    for (const recorder of this.recorders) await recorder(em, recorded);
    this.emitter.emit(event.type, recorded);
    this.emitter.emit('*', recorded);
    return recorded;
  }
}
