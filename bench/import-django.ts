/**
 * Importer benchmark (run by hand, not in CI): `npx tsx bench/import-django.ts`.
 *
 * Needs a real PostgreSQL server (BENCH_PG, default postgres://postgres@127.0.0.1:5432):
 * creates the databases `profilegraph_bench_django` (Django auth tables with BENCH_USERS
 * users, default 100,000, md5-hashed, ~1 in 10 in a group, ~1 in 20 with a direct
 * permission) and `profilegraph_bench_target` (migrated), runs the importer twice (first
 * import, then the re-run) and prints the time and the peak resident memory of this process.
 * Results are written down by hand in bench/README.md.
 */
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { importDjango } from '../src/modules/importer/django-importer.ts';
import { openRuntime } from '../src/cli/runtime.ts';

const server = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const users = Number(process.env.BENCH_USERS ?? 100_000);
const sourceUrl = `${server}/profilegraph_bench_django`;
const targetUrl = `${server}/profilegraph_bench_target`;

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: `${server}/postgres` });
  await client.connect();
  await client.query(sql);
  await client.end();
}

for (const name of ['profilegraph_bench_django', 'profilegraph_bench_target']) {
  await admin(`drop database if exists ${name} with (force)`);
  await admin(`create database ${name}`);
}
const source = new pg.Client({ connectionString: sourceUrl });
await source.connect();
await source.query(`
  create table django_content_type (id serial primary key, app_label varchar(100) not null, model varchar(100) not null);
  create table auth_permission (id serial primary key, name varchar(255) not null, content_type_id integer not null references django_content_type (id), codename varchar(100) not null);
  create table auth_group (id serial primary key, name varchar(150) not null unique);
  create table auth_group_permissions (id bigserial primary key, group_id integer not null, permission_id integer not null);
  create table auth_user (id serial primary key, password varchar(128) not null, last_login timestamptz null, is_superuser boolean not null,
    username varchar(150) not null unique, first_name varchar(150) not null, last_name varchar(150) not null, email varchar(254) not null,
    is_staff boolean not null, is_active boolean not null, date_joined timestamptz not null);
  create table auth_user_groups (id bigserial primary key, user_id integer not null, group_id integer not null);
  create table auth_user_user_permissions (id bigserial primary key, user_id integer not null, permission_id integer not null);
  insert into django_content_type (app_label, model) values ('auth', 'user'), ('blog', 'post');
  insert into auth_permission (name, content_type_id, codename) values ('Can change user', 1, 'change_user'), ('Can publish', 2, 'publish_post');
  insert into auth_group (name) values ('Editors');
  insert into auth_group_permissions (group_id, permission_id) values (1, 2);
  insert into auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
    select 'md5$salt' || g || '$' || md5('salt' || g || 'password' || g), false, 'user' || g, 'First' || g, 'Last' || g,
           'user' || g || '@example.com', false, g % 50 <> 0, now() - (g || ' minutes')::interval
      from generate_series(1, ${users}) g;
  insert into auth_user_groups (user_id, group_id) select id, 1 from auth_user where id % 10 = 0;
  insert into auth_user_user_permissions (user_id, permission_id) select id, 1 from auth_user where id % 20 = 0;
`);
await source.end();

const runtime = await openRuntime(loadConfig({ DATABASE_URL: targetUrl, MIGRATE_ON_START: 'true', LOG_LEVEL: 'warn' }));
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
for (const label of ['first import', 're-run']) {
  const started = Date.now();
  peak = process.memoryUsage().rss;
  const report = await importDjango(runtime.db.orm.em.fork(), runtime.services.profileWriter, { from: sourceUrl });
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `${label}: ${report.users.total} users (${report.users.inserted} new, ${report.users.updated} updated) in ${seconds.toFixed(1)} s ` +
      `(${Math.round(report.users.total / seconds)} users/s), peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
  );
}
clearInterval(sampler);
await runtime.close();
