import type { Logger } from 'pino';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/orm.ts';
import { createLogger } from '../logger.ts';
import { registryFromConfig } from '../schema.ts';
import type { ProfileRegistry } from '../profiles/registry.ts';
import { createServices, type Services } from '../services.ts';

/** What a command-line task needs: the database, the profiles and the services, without HTTP. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  registry: ProfileRegistry;
  services: Services;
  /** Waits for background work (mail), then closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the configured database (embedded or `DATABASE_URL`; pending migrations applied as
 * at start-up) with the installed profiles and builds the services. Logs go to stderr so a
 * command's own output stays clean. `command` (default: the command-line subcommand,
 * `process.argv[2]`) names this process in the embedded database's lock file; while a server
 * holds that folder this throws `EmbeddedDatabaseInUseError` before writing anything.
 */
export async function openRuntime(config: Config, command = process.argv[2] ?? 'cli'): Promise<Runtime> {
  const logger = createLogger(config, 2);
  const registry = await registryFromConfig(config);
  const db = await openDatabase(config, { logger, profiles: registry.profiles, holder: `command ${command}` });
  const services = createServices(config, registry, { clock: systemClock, em: db.orm.em, logger });
  return {
    config,
    logger,
    db,
    registry,
    services,
    async close() {
      await services.background.drain();
      await services.mailer.close();
      await db.close();
    },
  };
}
