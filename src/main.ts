import 'dotenv/config';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/orm.ts';
import { createLogger } from './logger.ts';
import { registryFromConfig } from './schema.ts';
import { ProfileDefinitionError } from './profiles/model.ts';

/** Process entry: config → database (embedded unless DATABASE_URL) → app → listen; graceful shutdown. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  let registry;
  try {
    registry = await registryFromConfig(config);
  } catch (error) {
    if (error instanceof ProfileDefinitionError) {
      logger.fatal(error.message);
      console.error(`Cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  for (const line of registry.report()) logger.info({ profiles: true }, line);
  const db = await openDatabase(config, { logger, profiles: registry.profiles });
  logger.info(
    db.embedded ? { database: 'embedded', dataDir: db.embedded.dataDir } : { database: 'postgresql', migrateOnStart: config.database.migrateOnStart },
    'database ready',
  );
  const app = await createApp(config, db, registry, logger);
  const address = await app.http.listen({ port: config.port, host: config.host });
  logger.info({ url: `${address}/graphql`, playground: config.http.playground }, 'profilegraph is serving');

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
