import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { DeviceToken } from '../modules/auth/device-token.entity.ts';
import { LoginRateLimit } from '../modules/auth/login-rate-limit.entity.ts';
import { DeletedProfileRow } from '../modules/accounts/deleted-profile-row.entity.ts';
import { Webhook, WebhookDelivery } from '../modules/webhooks/webhook.entity.ts';
import { LoginChallenge, RecoveryCode, TotpCredential } from '../modules/second-factor/second-factor.entity.ts';
import { Session } from '../modules/sessions/session.entity.ts';
import { User } from '../modules/users/user.entity.ts';
import { Follow } from '../modules/social/follow.entity.ts';
import { MailOutboxMessage } from '../modules/mail/mail.entity.ts';
import { UserToken } from '../modules/tokens/token.entity.ts';
import { AuditEvent } from '../modules/events/audit-event.entity.ts';
import { Group, GroupPermission, Permission, UserGroup, UserPermission } from '../modules/permissions/permission.entity.ts';
import { profileEntity } from '../profiles/entities.ts';
import type { ProfileDefinition } from '../profiles/model.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.ts';

/** Entities of the core tables; profile entities are added from the SDL. */
export const coreEntities = [
  User,
  Session,
  LoginRateLimit,
  DeletedProfileRow,
  Webhook,
  WebhookDelivery,
  TotpCredential,
  RecoveryCode,
  LoginChallenge,
  DeviceToken,
  Follow,
  UserToken,
  MailOutboxMessage,
  Permission,
  Group,
  GroupPermission,
  UserGroup,
  UserPermission,
  AuditEvent,
];

/** An open database: the ORM, the URL it reached, and the embedded server behind it if any. */
export interface Database {
  orm: MikroORM;
  url: string;
  embedded: EmbeddedPostgres | undefined;
  /** Names of the migrations {@link openDatabase} applied while opening, oldest first (empty without `migrate`). */
  migrated: string[];
  close(): Promise<void>;
}

/**
 * Raised by {@link openDatabase} when the database does not answer a `select 1` (refused,
 * unknown host, wrong credentials, missing database). The message names the host, port and
 * database of the URL, never its password, and the driver's reason.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    /** `host:port/database` of the URL that failed. */
    readonly target: string,
    readonly reason: string,
  ) {
    super(`Cannot reach the database at ${target}: ${reason}`);
    this.name = 'DatabaseUnavailableError';
  }
}

/** `host:port/database` of a `postgres://` URL (port 5432 when absent); the credentials are left out. */
export function describeDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/**
 * `MikroORM.init` with `options`, then `connect()` and one round trip (`select 1`, MikroORM's
 * `checkConnection`): MikroORM 7's init does not connect, and its pool connects lazily.
 * Throws {@link DatabaseUnavailableError} (after closing the pool) when either fails.
 */
async function initReachable(options: Options, url: string): Promise<MikroORM> {
  const orm = await MikroORM.init(options);
  let reason: string;
  try {
    await orm.connect();
    const check = await orm.checkConnection();
    if (check.ok) return orm;
    reason = check.reason;
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  await orm.close(true).catch(() => undefined);
  throw new DatabaseUnavailableError(describeDatabaseUrl(url), reason);
}

export interface OpenOptions {
  logger?: Logger;
  /** Called with every SQL statement the ORM runs, values inlined (tests count and inspect them). */
  onQuery?: (sql: string) => void;
  /** Profiles whose entities to register (all discovered ones for migrations). */
  profiles?: readonly ProfileDefinition[];
  /** Set `statement_timeout` on every connection (default true; migrations run without it). */
  statementTimeout?: boolean;
  /**
   * Create the database of the URL when it is missing (MikroORM `ensureDatabase`). Default
   * false: a serving pool refuses a missing database; migrating pools set it.
   */
  createDatabase?: boolean;
  /** Who opens the embedded database, for its lock file and the refusal message: `server` (default) or `command <name>`. */
  holder?: string;
}

/**
 * MikroORM options for `url`. `poolMax` must be 1 against the embedded database (PGlite is
 * one session). SQL statements are reported to `onQuery` when given (tests count them).
 * Against a real PostgreSQL every connection starts with `statement_timeout` =
 * `config.database.statementTimeoutMs` (the `pg` driver sends it as a startup parameter), so a
 * runaway statement is cancelled by the server (SQLSTATE 57014, masked to
 * `INTERNAL_SERVER_ERROR`). The embedded PGlite is left without: it ignores startup
 * parameters, and a single-threaded WASM backend could not interrupt a statement anyway.
 */
export function ormOptions(config: Config, url: string, extra: OpenOptions = {}): Options {
  const { logger, onQuery } = extra;
  return {
    clientUrl: url,
    entities: [...coreEntities, ...(extra.profiles ?? []).map((profile) => profileEntity(profile, User))],
    extensions: [Migrator],
    ensureDatabase: extra.createDatabase ?? false,
    pool: { min: 0, max: config.database.url ? config.database.poolMax : 1 },
    ...(config.database.url && extra.statementTimeout !== false ? { driverOptions: { statement_timeout: config.database.statementTimeoutMs } } : {}),
    replicas: config.database.url ? config.database.replicaUrls.map((clientUrl) => ({ clientUrl })) : [],
    migrations: {
      path: config.database.migrationsDir,
      // Removing a profile file keeps its table (and data); drop it with a hand-written migration.
      dropTables: false,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
    },
    debug: onQuery ? ['query', 'query-params'] : false,
    logger: (message) => {
      if (onQuery) onQuery(message);
      else logger?.debug({ orm: true }, message);
    },
    // Every request works on its own EntityManager fork; the global one stays unused.
    allowGlobalContext: false,
    forceUtcTimezone: true,
  };
}

/**
 * Opens the database named by `config.database.url`, or starts the embedded PostgreSQL under
 * `config.database.embeddedDataDir` when none is configured. Applies pending migrations when
 * `config.database.migrateOnStart` (default with the embedded database); against a real
 * PostgreSQL they run on a separate pool without `statement_timeout`. Every pool it opens must
 * answer a `select 1` first, or it throws {@link DatabaseUnavailableError}. A persistent embedded
 * folder held by another live process throws `EmbeddedDatabaseInUseError` (embedded-lock.ts)
 * before anything is read or written. Caller must `close()`.
 */
export async function openDatabase(config: Config, extra: OpenOptions & { migrate?: boolean } = {}): Promise<Database> {
  // A persistent embedded folder is locked for this process; a second opener gets EmbeddedDatabaseInUseError.
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres(config.database.embeddedDataDir, { holder: extra.holder ?? 'server', ...(extra.logger ? { logger: extra.logger } : {}) });
  const url = config.database.url ?? embedded!.url;
  try {
    const migrate = extra.migrate ?? config.database.migrateOnStart;
    let migrated: string[] = [];
    if (migrate && config.database.url) {
      // Migrations may legitimately run longer than a request's statement timeout: their own pool, without it.
      const migrating = await initReachable(ormOptions(config, url, { ...extra, statementTimeout: false, createDatabase: true }), url);
      try {
        migrated = (await migrating.migrator.up()).map((m) => m.name);
      } finally {
        await migrating.close(true);
      }
    }
    const orm = await initReachable(ormOptions(config, url, extra), url);
    if (migrate && !config.database.url) migrated = (await orm.migrator.up()).map((m) => m.name);
    return {
      orm,
      url,
      embedded,
      migrated,
      async close() {
        await orm.close(true);
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
