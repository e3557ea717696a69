import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { registryFromConfig } from '../schema.ts';
import { openDatabase, type Database } from './orm.ts';

/** The migrations of an open database: those recorded as run, and those in the folder not yet run. */
export interface MigrationStatus {
  /** Recorded in `mikro_orm_migrations`, oldest first, with when each ran. */
  executed: { name: string; executedAt: Date }[];
  /** Files of `config.database.migrationsDir` not recorded yet, oldest first. */
  pending: string[];
}

/**
 * Reads which migrations `db` has run and which committed ones it has not (MikroORM's
 * `migrator.getExecuted()` and `getPending()`; the first creates the empty
 * `mikro_orm_migrations` table on a database that never had one).
 */
export async function migrationStatus(db: Database): Promise<MigrationStatus> {
  const executed = await db.orm.migrator.getExecuted();
  const pending = await db.orm.migrator.getPending();
  return {
    executed: executed.map((row) => ({ name: row.name, executedAt: row.executed_at })),
    pending: pending.map((m) => m.name),
  };
}

/** Raised when the service would start with migrations not applied and `MIGRATE_ON_START=false`. */
export class PendingMigrationsError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `${pending.length} pending migration(s) not applied, and MIGRATE_ON_START is false: ${pending.join(', ')}. ` +
        'Apply them with `npm run db:migrate` (or set MIGRATE_ON_START=true), then start again.',
    );
    this.name = 'PendingMigrationsError';
  }
}

/**
 * Applies every pending committed migration to the configured database (embedded or
 * `DATABASE_URL`). Returns the names applied, oldest first.
 */
export async function migrateUp(config: Config, logger?: Logger): Promise<string[]> {
  const db = await openDatabase(config, {
    migrate: false,
    statementTimeout: false,
    createDatabase: true,
    holder: 'command db:migrate',
    ...(logger ? { logger } : {}),
  });
  try {
    const applied = await db.orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    await db.close();
  }
}

/**
 * Writes a new migration file that brings the committed migrations up to the current
 * entities. The diff is taken against a throwaway in-memory database with every committed
 * migration applied, so it never depends on the state of a developer's local data. Every
 * profile found in the profiles folder is included, installed by `PROFILES` or not.
 * Returns the file name, or `undefined` when the schema is already up to date.
 */
export async function createMigration(
  config: Config,
  options: { name?: string; blank?: boolean } = {},
): Promise<{ fileName: string; statements: string[] } | undefined> {
  const scratch: Config = { ...config, database: { ...config.database, url: undefined, embeddedDataDir: 'memory://' } };
  const registry = await registryFromConfig(config);
  const db = await openDatabase(scratch, { migrate: true, profiles: registry.discovered });
  try {
    const result = await db.orm.migrator.create(undefined, options.blank ?? false, false, options.name);
    if (!result.fileName) return undefined;
    return { fileName: result.fileName, statements: result.diff.up.filter(Boolean) };
  } finally {
    await db.close();
  }
}
