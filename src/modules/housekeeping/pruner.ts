import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import { ident, sql, type Sql } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';

/** Rows deleted by one statement at most, so a large backlog never holds row locks for long. */
export const PRUNE_BATCH_SIZE = 10_000;

/** The kinds of rows {@link Pruner} deletes, one table each. */
export const PRUNED_KINDS = ['sessions', 'userTokens', 'deviceTokens', 'mailOutbox', 'auditEvents'] as const;
export type PrunedKind = (typeof PRUNED_KINDS)[number];

/** Rows deleted by one {@link Pruner.runOnce}, per kind. */
export type PruneCounts = Record<PrunedKind, number>;

/** What {@link Pruner} needs of the configuration. */
export interface PrunerConfig {
  sessions: Pick<Config['sessions'], 'idleTimeoutMs'>;
  housekeeping: Config['housekeeping'];
}

/**
 * Deletes rows nothing can use any more, on a schedule (`PRUNE_INTERVAL_SECONDS`, default one
 * hour) and on demand ({@link Pruner.runOnce}):
 *
 * - `sessions` past their absolute timeout (`expires_at <= now`) or idle for longer than
 *   `SESSION_IDLE_TIMEOUT_SECONDS` (`last_seen_at <= now - idle`): exactly the rows
 *   `SessionService.resolve` no longer accepts;
 * - `user_tokens` expired (`expires_at <= now`) or spent (`used_at` set);
 * - `device_tokens` expired (`expires_at <= now`);
 * - `mail_outbox` rows past their token's expiry (`expires_at <= now`; every outbox delivery
 *   prunes these too, this catches an outbox nobody writes to);
 * - `audit_events` older than `AUDIT_RETENTION_DAYS` (`created_at <= now - days`); 0 keeps
 *   them forever.
 *
 * Each table is pruned by repeated `delete … where id in (select id … limit 10000)` statements,
 * each its own short transaction on a fork of the root EntityManager, until a batch comes back
 * short. Every run logs one info line `{ pruned: { sessions, userTokens, … } }`. Runs never
 * overlap: a tick that finds a run still going is skipped. A failed scheduled run is logged
 * (error) and the schedule goes on.
 */
export class Pruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneCounts> | undefined;

  constructor(
    private readonly em: EntityManager,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: PrunerConfig,
  ) {}

  /**
   * Starts the schedule: a run every `PRUNE_INTERVAL_SECONDS` (the first one interval after
   * this call). The timer is `unref()`'d, so it never keeps the process alive. Does nothing
   * when the interval is 0 or the schedule already runs.
   */
  start(): void {
    const intervalMs = this.config.housekeeping.pruneIntervalMs;
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.runOnce().catch((err: unknown) => this.logger.error({ err }, 'pruning expired rows failed'));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a run in progress to finish (its failure is not rethrown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /**
   * Prunes every kind once, as of `clock.now()`, and resolves with the rows deleted per kind
   * (also logged). A run already in progress is joined rather than doubled. Rejects with the
   * driver's error when a statement fails (rows deleted by earlier batches stay deleted).
   */
  runOnce(): Promise<PruneCounts> {
    this.running ??= this.prune().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async prune(): Promise<PruneCounts> {
    const em = this.em.fork();
    const now = this.clock.now();
    const idleSince = new Date(now.getTime() - this.config.sessions.idleTimeoutMs);
    const auditRetentionMs = this.config.housekeeping.auditRetentionDays * 24 * 3600 * 1000;
    const counts: PruneCounts = {
      sessions: await this.deleteBatched(em, ident('sessions'), sql`expires_at <= ${now} or last_seen_at <= ${idleSince}`),
      userTokens: await this.deleteBatched(em, ident('user_tokens'), sql`expires_at <= ${now} or used_at is not null`),
      deviceTokens: await this.deleteBatched(em, ident('device_tokens'), sql`expires_at <= ${now}`),
      mailOutbox: await this.deleteBatched(em, ident('mail_outbox'), sql`expires_at <= ${now}`),
      auditEvents:
        auditRetentionMs > 0 ? await this.deleteBatched(em, ident('audit_events'), sql`created_at <= ${new Date(now.getTime() - auditRetentionMs)}`) : 0,
    };
    this.logger.info({ pruned: counts }, 'pruned expired rows');
    return counts;
  }

  /** Deletes the rows of `table` matching `condition` in batches of {@link PRUNE_BATCH_SIZE}; returns how many went. */
  private async deleteBatched(em: EntityManager, table: Sql, condition: Sql): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await execute<{ affectedRows: number }>(
        em,
        sql`delete from ${table} where id in (select id from ${table} where (${condition}) limit ${PRUNE_BATCH_SIZE})`,
        'run',
      );
      total += result.affectedRows;
      if (result.affectedRows < PRUNE_BATCH_SIZE) return total;
    }
  }
}
