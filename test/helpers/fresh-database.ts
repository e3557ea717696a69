import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';

const { Client } = pg;

/** A database of its own, `drop()`ped by the caller. */
export interface FreshDatabase {
  url: string;
  /** True for a throwaway embedded PGlite (its pool must stay at one connection). */
  embedded: boolean;
  drop(): Promise<void>;
}

/**
 * An EMPTY database (no migrations applied) for tests that need their own schema history.
 * With a real PostgreSQL (`inject('databaseUrl')`), a new `profilegraph_t_<hex>` database on
 * that server, dropped `with (force)`; otherwise an in-memory embedded PostgreSQL, stopped.
 */
export async function freshDatabase(): Promise<FreshDatabase> {
  const shared = inject('databaseUrl');
  if (!shared) {
    const server = await startEmbeddedPostgres('memory://');
    return { url: server.url, embedded: true, drop: () => server.stop() };
  }
  const name = `profilegraph_t_${randomBytes(6).toString('hex')}`;
  const admin = new URL(shared);
  admin.pathname = '/postgres';
  const onAdmin = async (sql: string) => {
    const client = new Client({ connectionString: admin.href });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await onAdmin(`create database "${name}"`);
  const url = new URL(shared);
  url.pathname = `/${name}`;
  return { url: url.href, embedded: false, drop: () => onAdmin(`drop database if exists "${name}" with (force)`) };
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A temp folder holding copies of the shipped profiles and committed migrations. */
export interface ProfileWorkspace {
  dir: string;
  profilesDir: string;
  migrationsDir: string;
  remove(): void;
}

/**
 * Copies every file of `schema/profiles/` to `<tmp>/profiles` and of `src/db/migrations/` to
 * `<tmp>/migrations`, so a test can add profile files and generate migrations without
 * touching the repository. `<tmp>/node_modules` links to the project's, so migrations and
 * hook modules loaded from there resolve their imports (`@mikro-orm/migrations`).
 */
export function prepareProfileWorkspace(): ProfileWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'profilegraph-profiles-'));
  const profilesDir = join(dir, 'profiles');
  const migrationsDir = join(dir, 'migrations');
  mkdirSync(profilesDir);
  mkdirSync(migrationsDir);
  cpSync(join(root, 'schema/profiles'), profilesDir, { recursive: true });
  cpSync(join(root, 'src/db/migrations'), migrationsDir, { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, profilesDir, migrationsDir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
