import 'dotenv/config';
import { createApp } from './app.ts';
import { ConfigError, configWarnings, loadConfig } from './config.ts';
import { migrationStatus, PendingMigrationsError } from './db/migrations-tasks.ts';
import { DatabaseUnavailableError, describeDatabaseUrl, openDatabase } from './db/orm.ts';
import { EmbeddedDatabaseInUseError } from './db/embedded-lock.ts';
import type { Logger } from 'pino';
import { createLogger } from './logger.ts';
import { registryFromConfig } from './schema.ts';
import { ProfileDefinitionError } from './profiles/model.ts';
import { PlaygroundBundleMissingError } from './playground.ts';

/** Ends a start-up that cannot go on: the reason in the log and alone on stderr (no stack), exit status 1. */
function refuse(logger: Logger, message: string): never {
  logger.fatal(message);
  console.error(`Cannot start: ${message}`);
  process.exit(1);
}

/**
 * Process entry: config → database (embedded unless DATABASE_URL; one `select 1` round trip)
 * → migrations logged, pending ones refused unless applied → app → listen; graceful shutdown.
 */
async function main(): Promise<void> {
  // Misspelt names (`DATABSE_URL`): logged once the logger exists, or beside the errors they may explain.
  const warnings = configWarnings();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error([error.message, ...warnings.map((w) => `warning: ${w}`)].join('\n'));
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  for (const warning of warnings) logger.warn({ config: true }, warning);
  let registry;
  try {
    registry = await registryFromConfig(config);
  } catch (error) {
    if (error instanceof ProfileDefinitionError) refuse(logger, error.message);
    throw error;
  }
  for (const line of registry.report()) logger.info({ profiles: true }, line);
  let db;
  try {
    db = await openDatabase(config, { logger, profiles: registry.profiles });
  } catch (error) {
    if (error instanceof DatabaseUnavailableError || error instanceof EmbeddedDatabaseInUseError) refuse(logger, error.message);
    throw error;
  }
  const migrations = await migrationStatus(db);
  const appliedNow = new Set(db.migrated);
  for (const { name, executedAt } of migrations.executed) {
    logger.info({ migration: name, executedAt, appliedNow: appliedNow.has(name) }, `migration applied: ${name}`);
  }
  for (const name of migrations.pending) logger.warn({ migration: name }, `migration pending: ${name}`);
  if (migrations.pending.length > 0 && !config.database.migrateOnStart) {
    await db.close();
    refuse(logger, new PendingMigrationsError(migrations.pending).message);
  }
  logger.info(
    db.embedded
      ? { database: 'embedded', dataDir: db.embedded.dataDir, migrations: migrations.executed.length }
      : { database: 'postgresql', target: describeDatabaseUrl(db.url), migrateOnStart: config.database.migrateOnStart, migrations: migrations.executed.length },
    'database ready',
  );
  if (db.embedded && config.env === 'development') {
    // Lets a developer look inside (e.g. `select * from mail_outbox`); the port changes at every start.
    logger.info({ url: db.embedded.url }, `embedded database: psql ${db.embedded.url}`);
  }
  let app;
  try {
    app = await createApp(config, db, registry, logger);
  } catch (error) {
    if (error instanceof PlaygroundBundleMissingError) {
      await db.close();
      refuse(logger, error.message);
    }
    throw error;
  }
  const address = await app.http.listen({ port: config.port, host: config.host });
  const ides = config.http.introspection
    ? { playground: config.http.playground ? `${address}/graphql` : false, graphiql: config.http.graphiql ? `${address}/graphiql` : false }
    : {};
  logger.info({ url: `${address}/graphql`, ...ides }, 'profilegraph is serving');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    timer.unref();
    try {
      await app.close();
      await db.close();
      logger.info('stopped');
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exitCode = 1;
    }
  };
  // `on`, not `once`: a listener must stay registered during shutdown, or the TypeScript
  // loader's own handler sees none left and exits at once. Repeated signals are ignored.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

await main();
