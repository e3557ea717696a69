import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { registryFromConfig } from '../schema.ts';
import { openDatabase } from './orm.ts';

/**
 * Applies every pending committed migration to the configured database (embedded or
 * `DATABASE_URL`). Returns the names applied, oldest first.
 */
export async function migrateUp(config: Config, logger?: Logger): Promise<string[]> {
  const db = await openDatabase(config, { migrate: false, statementTimeout: false, ...(logger ? { logger } : {}) });
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
