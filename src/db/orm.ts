import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { DeviceToken } from '../modules/auth/device-token.entity.ts';
import { LoginRateLimit } from '../modules/auth/login-rate-limit.entity.ts';
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
  close(): Promise<void>;
}

export interface OpenOptions {
  logger?: Logger;
  /** Called with every SQL statement the ORM runs, values inlined (tests count and inspect them). */
  onQuery?: (sql: string) => void;
  /** Profiles whose entities to register (all discovered ones for migrations). */
  profiles?: readonly ProfileDefinition[];
  /** Set `statement_timeout` on every connection (default true; migrations run without it). */
  statementTimeout?: boolean;
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
 * PostgreSQL they run on a separate pool without `statement_timeout`. Caller must `close()`.
 */
export async function openDatabase(config: Config, extra: OpenOptions & { migrate?: boolean } = {}): Promise<Database> {
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.database.embeddedDataDir);
  const url = config.database.url ?? embedded!.url;
  try {
    const migrate = extra.migrate ?? config.database.migrateOnStart;
    if (migrate && config.database.url) {
      // Migrations may legitimately run longer than a request's statement timeout: their own pool, without it.
      const migrating = await MikroORM.init(ormOptions(config, url, { ...extra, statementTimeout: false }));
      try {
        await migrating.migrator.up();
      } finally {
        await migrating.close(true);
      }
    }
    const orm = await MikroORM.init(ormOptions(config, url, extra));
    if (migrate && !config.database.url) await orm.migrator.up();
    return {
      orm,
      url,
      embedded,
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
