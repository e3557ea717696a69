/**
 * Read-path benchmark (run by hand, not in CI): `npx tsx bench/reads.ts`.
 *
 * Starts the service in this process on DATABASE_URL (or a fresh in-memory embedded
 * database), seeds BENCH_USERS users (default 1,000) with all three shipped profiles filled
 * by one SQL statement each, then drives it with autocannon — in a separate process, so the
 * load generator does not share the service's event loop — for BENCH_SECONDS per scenario
 * (default 10, 10 connections) and prints requests/s and latency percentiles:
 *   single   — one user by id with its three profiles
 *   page     — a page of 100 users with their three profiles
 *   page+bag — the same plus `data(key: "email")`
 * Results are written down by hand in bench/README.md.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/orm.ts';
import { createLogger } from '../src/logger.ts';
import { registryFromConfig } from '../src/schema.ts';

const users = Number(process.env.BENCH_USERS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const config = loadConfig({
  ...process.env,
  LOG_LEVEL: 'warn',
  EMBEDDED_DATA_DIR: process.env.EMBEDDED_DATA_DIR ?? 'memory://',
  MIGRATE_ON_START: 'true',
  PLAYGROUND: 'false',
  // The benchmark sends no mail; production mode would otherwise refuse the outbox.
  MAIL_OUTBOX_IN_PRODUCTION: process.env.MAIL_OUTBOX_IN_PRODUCTION ?? 'true',
  // No TOTP secrets are read or written; production mode requires a key all the same.
  SECRETS_KEY: process.env.SECRETS_KEY ?? '00'.repeat(32),
});
const logger = createLogger(config);
const registry = await registryFromConfig(config);
const db = await openDatabase(config, { logger, profiles: registry.profiles });
const em = db.orm.em.fork();
const tag = `bench${Date.now().toString(36)}`;
await em.execute(
  `insert into users (identifier, identifier_key, password)
   select ? || g, ? || g, '!' from generate_series(1, ?) g`,
  [tag, tag, users],
);
const ids = `select id from users where identifier_key like ?`;
await em.execute(
  `insert into profile_account (user_id, first_name, last_name, email) select id, 'First' || id, 'Last' || id, 'a' || id || '@example.com' from users where identifier_key like ?`,
  [`${tag}%`],
);
await em.execute(`insert into profile_mail (user_id, email) select id, ? || id || '@example.com' from users where identifier_key like ?`, [tag, `${tag}%`]);
await em.execute(`insert into profile_social (user_id, bio) select id, 'Bio of ' || id from users where identifier_key like ?`, [`${tag}%`]);
const [first] = await em.execute<{ id: string }[]>(`${ids} order by id limit 1`, [`${tag}%`]);

const app = await createApp(config, db, registry, logger);
const address = await app.http.listen({ port: 0, host: '127.0.0.1' });
const profiles = 'account { firstName lastName isActive } mail { emailConfirmedAt } social { bio followRequiresConfirmation }';
const scenarios: Record<string, string> = {
  single: `{ user(id: "${first!.id}") { id identifier ${profiles} } }`,
  page: `{ users(first: 100, where: { identifier: { startsWith: "${tag}" } }) { edges { node { id identifier ${profiles} } } } }`,
  'page+bag': `{ users(first: 100, where: { identifier: { startsWith: "${tag}" } }) { edges { node { id identifier ${profiles} email: data(key: "email") } } } }`,
};

console.log(`database: ${db.embedded ? 'embedded (PGlite)' : 'PostgreSQL'}; ${users} users; ${seconds}s per scenario, 10 connections`);
const autocannonCli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
for (const [name, query] of Object.entries(scenarios)) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      autocannonCli,
      '--json',
      '-c',
      '10',
      '-d',
      String(seconds),
      '-m',
      'POST',
      '-H',
      'content-type=application/json',
      '-b',
      JSON.stringify({ query }),
      `${address}/graphql`,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  const failures = result.non2xx + result.errors;
  console.log(
    `${name.padEnd(9)} ${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms${failures ? `  (${failures} failed)` : ''}`,
  );
}
await app.close();
await em.execute(`delete from users where identifier_key like ?`, [`${tag}%`]);
await db.close();
