import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { Webhook as Signer } from 'standardwebhooks';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import { appError, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import { sql } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { requireSuperuser } from '../permissions/access.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import { EVENT_TYPES, type RecordedEvent } from '../events/events.ts';

/** How the dispatcher delivers (`WEBHOOK_*` variables). */
export type WebhookConfig = Config['webhooks'];

/** A webhook as the API shows it (never its secret after creation). */
export interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  createdAt: Date;
}

/** One delivery as staff see it. */
export interface DeliveryRow {
  id: string;
  eventId: string;
  eventType: string;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

const MAX_BACKOFF_MS = 60 * 60_000;
/** Deliveries one dispatcher run claims at most. */
const CLAIM_BATCH = 20;

const date = (value: unknown): Date | null => (value == null ? null : new Date(value as string | Date));

function deliveryFrom(row: Record<string, unknown>): DeliveryRow {
  return {
    id: String(row.id),
    eventId: String(row.event_id),
    eventType: String(row.event_type),
    status: String(row.status).toUpperCase() as DeliveryRow['status'],
    attempts: Number(row.attempts),
    nextAttemptAt: date(row.next_attempt_at),
    lastAttemptAt: date(row.last_attempt_at),
    lastStatusCode: row.last_status_code == null ? null : Number(row.last_status_code),
    lastError: (row.last_error as string | null) ?? null,
    deliveredAt: date(row.delivered_at),
    createdAt: date(row.created_at)!,
  };
}

/**
 * The body every delivery of `event` carries, per the Standard Webhooks payload structure:
 * `{ type, timestamp, data }`, `data` holding the event's id, actor, subject and payload.
 */
export function webhookPayload(event: RecordedEvent): { type: string; timestamp: string; data: Record<string, unknown> } {
  return {
    type: event.type,
    timestamp: event.at.toISOString(),
    data: { eventId: event.id, actorId: event.actorId, subjectId: event.subjectId, ...event.data },
  };
}

/**
 * Outbound webhooks (SPEC §8): superusers register endpoints for event types; every event is
 * queued for each matching endpoint **in the event's own transaction** (`webhook_deliveries`,
 * a transactional outbox), then delivered by {@link WebhookDispatcher}.
 */
export class WebhookService {
  constructor(private readonly clock: Clock) {}

  /**
   * Registers `url` (http or https) for `events` (event types, or `"*"` for all) and returns it
   * with its signing secret, shown only here. Errors: `UNAUTHENTICATED`, `FORBIDDEN` (not a
   * superuser), `BAD_USER_INPUT` (fields `url`, `events`).
   */
  async create(scope: RequestScope, url: string, events: readonly string[]): Promise<{ webhook: WebhookRow; secret: string }> {
    await requireSuperuser(scope, 'manage webhooks');
    const fields: Record<string, string> = {};
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      fields.url = 'Not a URL.';
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fields.url = 'Only http and https URLs can receive webhooks.';
    const unknown = events.filter((e) => e !== '*' && !(EVENT_TYPES as readonly string[]).includes(e));
    if (events.length === 0) fields.events = 'Name at least one event type, or "*".';
    else if (unknown.length > 0) fields.events = `Unknown event types: ${unknown.join(', ')}. Known: ${EVENT_TYPES.join(', ')}.`;
    if (Object.keys(fields).length > 0) throw appError(ErrorCode.BAD_USER_INPUT, 'The webhook is invalid.', { fields });
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const [row] = await execute(
      scope.em,
      sql`insert into webhooks (url, events, secret, created_by, created_at) values (${parsed!.href}, ${JSON.stringify([...new Set(events)])}::jsonb, ${secret}, ${requireViewer(scope).user.id}, ${this.clock.now()})
          returning id, url, events, created_at`,
    );
    return { webhook: webhookFrom(row!), secret };
  }

  /** Every webhook, oldest first. Errors: `UNAUTHENTICATED`, `FORBIDDEN`. */
  async list(scope: RequestScope): Promise<WebhookRow[]> {
    await requireSuperuser(scope, 'manage webhooks');
    return (await execute(scope.em, sql`select id, url, events, created_at from webhooks order by id`)).map(webhookFrom);
  }

  /** Removes a webhook and its deliveries, pending ones included. Returns whether it existed. Errors: `UNAUTHENTICATED`, `FORBIDDEN`, `BAD_USER_INPUT`. */
  async delete(scope: RequestScope, id: string): Promise<boolean> {
    await requireSuperuser(scope, 'manage webhooks');
    const result = await execute<{ affectedRows: number }>(scope.em, sql`delete from webhooks where id = ${parseId(id, 'id')}`, 'run');
    return result.affectedRows > 0;
  }

  /** The latest `first` deliveries of a webhook, newest first (the parent field already checked access). */
  async deliveries(em: EntityManager, webhookId: string, first: number): Promise<DeliveryRow[]> {
    const limit = Math.max(1, Math.min(100, first));
    return (await execute(em, sql`select * from webhook_deliveries where webhook_id = ${webhookId} order by id desc limit ${limit}`)).map(deliveryFrom);
  }

  /**
   * Queues `event` for every webhook subscribed to its type, with `em` — inside the caller's
   * transaction, so the delivery exists exactly when the change does. One statement; none
   * reach an endpoint before the transaction commits. Registered as the event bus's recorder.
   */
  async enqueue(em: EntityManager, event: RecordedEvent): Promise<void> {
    await execute(
      em,
      sql`insert into webhook_deliveries (webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
          select w.id, ${event.id}, ${event.type}, ${JSON.stringify(webhookPayload(event))}::jsonb, 'pending', 0, ${event.at}, ${event.at}
            from webhooks w where w.events @> ${JSON.stringify([event.type])}::jsonb or w.events @> '["*"]'::jsonb`,
      'run',
    );
  }
}

function webhookFrom(row: Record<string, unknown>): WebhookRow {
  const events = typeof row.events === 'string' ? (JSON.parse(row.events) as string[]) : (row.events as string[]);
  return { id: String(row.id), url: String(row.url), events, createdAt: date(row.created_at)! };
}

/**
 * Delivers queued webhooks: every `dispatchIntervalMs` (and at once after {@link wake}) it claims
 * up to 20 due `pending` deliveries with `for update skip locked` — so instances sharing the
 * database never send one twice at the same time — leases them for twice the timeout, and POSTs
 * each outside any transaction, signed per the Standard Webhooks specification (headers
 * `webhook-id: msg_<delivery id>`, `webhook-timestamp` in Unix seconds, `webhook-signature:
 * v1,<base64 HMAC-SHA256>`, by the `standardwebhooks` package). A 2xx answer marks it
 * `delivered`; anything else (status, timeout, refused connection; redirects are not followed)
 * schedules the next attempt after `retryBaseMs · 2^(attempt−1)` (at most one hour), until
 * `maxAttempts`, then `failed`. A delivery survives restarts: it is only a row until it succeeds.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again = false;

  constructor(
    private readonly em: EntityManager,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: WebhookConfig,
    /** Called after each attempt with its outcome (metrics). */
    private readonly onOutcome?: (outcome: 'delivered' | 'retry' | 'failed') => void,
  ) {}

  /** Starts polling (unref'd timer). Does nothing when `dispatchIntervalMs` is 0. */
  start(): void {
    if (this.config.dispatchIntervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.wake(), this.config.dispatchIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Runs a delivery round soon (after the current one, if one runs). No-op when stopped. */
  wake(): void {
    if (!this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce()
      .catch((err: unknown) => {
        this.logger.error({ err }, 'webhook delivery round failed');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops polling and waits for a round in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Claims and attempts the due deliveries once. Returns how many were attempted. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const lease = new Date(now.getTime() + 2 * this.config.timeoutMs);
    const claimed = await this.em.fork().transactional(async (tx) => {
      const rows = await execute(
        tx,
        sql`select d.id, d.payload, d.attempts, w.url, w.secret
              from webhook_deliveries d join webhooks w on w.id = d.webhook_id
             where d.status = 'pending' and d.next_attempt_at <= ${now}
             order by d.next_attempt_at, d.id
             limit ${CLAIM_BATCH}
             for update of d skip locked`,
      );
      if (rows.length > 0) {
        await execute(
          tx,
          sql`update webhook_deliveries set next_attempt_at = ${lease} where id = any(${`{${rows.map((r) => String(r.id)).join(',')}}`}::bigint[])`,
          'run',
        );
      }
      return rows;
    });
    await Promise.all(claimed.map((row) => this.attempt(row, lease)));
    if (claimed.length === CLAIM_BATCH) this.again = true;
    return claimed.length;
  }

  /**
   * One attempt of a claimed delivery. Its outcome is written only while this process still holds
   * the lease (`next_attempt_at` = `lease`, status pending): an attempt that outlived its lease,
   * whose row another instance claimed meanwhile, changes nothing.
   */
  private async attempt(row: Record<string, unknown>, lease: Date): Promise<void> {
    const id = String(row.id);
    const body = typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload);
    const sentAt = this.clock.now();
    const msgId = `msg_${id}`;
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const signature = new Signer(String(row.secret)).sign(msgId, sentAt, body);
      const response = await fetch(String(row.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'profilegraph-webhooks',
          'webhook-id': msgId,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      statusCode = response.status;
      await response.body?.cancel();
      if (response.status < 200 || response.status >= 300) error = `HTTP ${response.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const attempts = Number(row.attempts) + 1;
    const done = this.clock.now();
    const em = this.em.fork();
    if (error === null) {
      await execute(
        em,
        sql`update webhook_deliveries set status = 'delivered', attempts = ${attempts}, last_attempt_at = ${done}, last_status_code = ${statusCode},
              last_error = null, delivered_at = ${done}, next_attempt_at = null
             where id = ${id} and status = 'pending' and next_attempt_at = ${lease}`,
        'run',
      );
      this.onOutcome?.('delivered');
      return;
    }
    const failed = attempts >= this.config.maxAttempts;
    const next = failed ? null : new Date(done.getTime() + Math.min(MAX_BACKOFF_MS, this.config.retryBaseMs * 2 ** (attempts - 1)));
    await execute(
      em,
      sql`update webhook_deliveries set status = ${failed ? 'failed' : 'pending'}, attempts = ${attempts}, last_attempt_at = ${done},
            last_status_code = ${statusCode}, last_error = ${error.slice(0, 500)}, next_attempt_at = ${next}
           where id = ${id} and status = 'pending' and next_attempt_at = ${lease}`,
      'run',
    );
    this.onOutcome?.(failed ? 'failed' : 'retry');
    (failed ? this.logger.warn : this.logger.info).call(
      this.logger,
      { delivery: id, attempts, statusCode, error },
      failed ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
    );
  }
}
