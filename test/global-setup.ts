import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrateUp } from '../src/db/migrations-tasks.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A real PostgreSQL shared by every test file, or '' for the embedded database. */
    databaseUrl: string;
    /** With the embedded database: a migrated PGlite data folder tarball each file starts from. */
    embeddedDump: string;
  }
}

/**
 * With `TEST_DATABASE_URL` (a real PostgreSQL) every test file shares that database, migrated
 * once here. Without it, each test file gets its own in-memory embedded PostgreSQL (PGlite
 * is one session, so files must not share one), started from a tarball of a database migrated
 * once here. Tests create uniquely named data instead of truncating tables.
 */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    await migrateUp(loadConfig({ DATABASE_URL: external, DATABASE_POOL_MAX: '1' }));
    project.provide('databaseUrl', external);
    project.provide('embeddedDump', '');
    return;
  }
  const embedded = await startEmbeddedPostgres('memory://');
  const dir = mkdtempSync(join(tmpdir(), 'profilegraph-test-'));
  const dumpPath = join(dir, 'migrated.tar');
  try {
    await migrateUp(loadConfig({ DATABASE_URL: embedded.url, DATABASE_POOL_MAX: '1' }));
    writeFileSync(dumpPath, Buffer.from(await (await embedded.dump()).arrayBuffer()));
  } finally {
    await embedded.stop();
  }
  project.provide('databaseUrl', '');
  project.provide('embeddedDump', dumpPath);
  return () => rmSync(dir, { recursive: true, force: true });
}
