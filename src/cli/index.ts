import 'dotenv/config';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, configWarnings, loadConfig } from '../config.ts';
import { createMigration, migrateUp } from '../db/migrations-tasks.ts';
import { createLogger } from '../logger.ts';
import { CommandError, registerCreateSuperuser } from './createsuperuser.ts';
import { registerSeedDemo } from './seed-demo.ts';
import { registerImportDjango } from './import-django.ts';
import { registerSchemaPrint } from './schema-print.ts';

/** The service's version, from its package.json (two folders up, in src/ and in a compiled build alike). */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('profilegraph')
  .version(version, '-V, --version', 'print the version of profilegraph and exit')
  .description('Command line of the profilegraph user service. Configuration comes from the environment (see README).')
  .showHelpAfterError();

program
  .command('db:migrate')
  .description('Apply every pending migration to the configured database (DATABASE_URL, or the embedded one).')
  .action(async () => {
    const config = loadConfig();
    const applied = await migrateUp(config, createLogger(config));
    console.log(applied.length ? `Applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'No pending migrations.');
  });

program
  .command('db:migration:create')
  .description('Write a migration for the difference between the committed migrations and the current entities and profiles.')
  .option('-n, --name <name>', 'suffix for the migration file name')
  .option('-b, --blank', 'write an empty migration to fill in by hand')
  .action(async (options: { name?: string; blank?: boolean }) => {
    const config = loadConfig();
    const result = await createMigration(config, options);
    if (!result) {
      console.log('The schema is up to date; no migration written.');
      return;
    }
    console.log(`Wrote ${config.database.migrationsDir}/${result.fileName}`);
    for (const statement of result.statements) console.log(`  ${statement}`);
  });

registerImportDjango(program);

registerCreateSuperuser(program);
registerSeedDemo(program);
registerSchemaPrint(program);

// Misspelt settings (`DATABSE_URL`) on stderr, so a command's own output on stdout stays clean.
for (const warning of configWarnings()) console.error(`warning: ${warning}`);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Expected failures print their message alone; anything else keeps its stack for a bug report.
  const known =
    error instanceof ConfigError ||
    error instanceof CommandError ||
    (error instanceof Error &&
      ['ImportSourceError', 'MissingDevDependencyError', 'ProfileDefinitionError', 'EmbeddedDatabaseInUseError', 'DatabaseUnavailableError'].includes(
        error.name,
      ));
  console.error(known ? error.message : error);
  process.exitCode = 1;
}
