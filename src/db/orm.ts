import { fileURLToPath } from 'node:url';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { LoginRateLimit } from '../modules/auth/login-rate-limit.entity.ts';
import { Session } from '../modules/sessions/session.entity.ts';
import { User } from '../modules/users/user.entity.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.ts';

/** Folder of the committed MikroORM migrations. */
export const migrationsPath = fileURLToPath(new URL('./migrations', import.meta.url));

/** Entities whose tables the migrations own. */
export const entities = [User, Session, LoginRateLimit];

/** An open database: the ORM, the URL it reached, and the embedded server behind it if any. */
export interface Database {
  orm: MikroORM;
  url: string;
  embedded: EmbeddedPostgres | undefined;
  close(): Promise<void>;
}

/**
 * MikroORM options for `url`. `poolMax` must be 1 against the embedded database (PGlite is
 * one session). SQL statements are reported to `onQuery` when given (tests count them).
 */
export function ormOptions(
  config: Config,
  url: string,
  extra: { logger?: Logger; onQuery?: (sql: string) => void } = {},
): Options {
  const { logger, onQuery } = extra;
  return {
    clientUrl: url,
    entities,
    extensions: [Migrator],
    pool: { min: 0, max: config.database.url ? config.database.poolMax : 1 },
    replicas: config.database.url ? config.database.replicaUrls.map((clientUrl) => ({ clientUrl })) : [],
    migrations: {
      path: migrationsPath,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
    },
    debug: onQuery ? ['query'] : false,
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
 * `config.database.migrateOnStart` (default with the embedded database). Caller must `close()`.
 */
export async function openDatabase(
  config: Config,
  extra: { logger?: Logger; onQuery?: (sql: string) => void; migrate?: boolean } = {},
): Promise<Database> {
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.database.embeddedDataDir);
  const url = config.database.url ?? embedded!.url;
  try {
    const orm = await MikroORM.init(ormOptions(config, url, extra));
    if (extra.migrate ?? config.database.migrateOnStart) {
      await orm.migrator.up();
    }
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
