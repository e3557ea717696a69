import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import { PRUNE_BATCH_SIZE, type PruneCounts } from '../src/modules/housekeeping/pruner.ts';
import { ME, signupUser, startTestServer, type TestServer } from './helpers/server.ts';

const DAY_MS = 24 * 3600 * 1000;
/** On the shared PostgreSQL other files write at the same time, so a count may include their dead rows. */
const shared = Boolean(inject('databaseUrl'));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SESSION_IDLE_TIMEOUT_SECONDS: '600', AUDIT_RETENTION_DAYS: '30' });
});
afterAll(async () => {
  await server?.close();
});

function sqlRun<T extends Record<string, unknown>[] = { id: string }[]>(statement: string, values: unknown[] = []): Promise<T> {
  return server.db.orm.em.fork().execute<T>(statement, values);
}

/** Inserts one row with `returning id` and gives its id. */
async function insertId(statement: string, values: unknown[]): Promise<string> {
  const [row] = await sqlRun(`${statement} returning id`, values);
  return String(row!.id);
}

async function remaining(table: string, ids: string[]): Promise<string[]> {
  const rows = await sqlRun(`select id from ${table} where id in (${ids.map(() => '?').join(', ')}) order by id`, ids);
  return rows.map((r) => String(r.id));
}

function expectCount(counts: PruneCounts, kind: keyof PruneCounts, mine: number) {
  if (shared) expect(counts[kind]).toBeGreaterThanOrEqual(mine);
  else expect(counts[kind]).toBe(mine);
}

it('prunes dead sessions, tokens, outbox mail and old audit events, and keeps the live ones', async () => {
  const user = await signupUser(server);
  const now = Date.now();
  const ago = (ms: number) => new Date(now - ms);
  const ahead = (ms: number) => new Date(now + ms);
  await server.app.pruner.runOnce(); // this file's backlog, so the counts below are ours
  const info = vi.spyOn(server.logger, 'info');

  const session = (lastSeen: Date, expires: Date) =>
    insertId('insert into sessions (user_id, token_hash, created_at, last_seen_at, expires_at) values (?, ?, ?, ?, ?)', [
      user.id,
      randomBytes(32),
      ago(DAY_MS),
      lastSeen,
      expires,
    ]);
  const sessions = {
    expired: await session(ago(1000), ago(1000)),
    idle: await session(ago(11 * 60_000), ahead(DAY_MS)),
    live: await session(ago(5 * 60_000), ahead(DAY_MS)),
  };
  const userToken = (expires: Date, used: Date | null) =>
    insertId("insert into user_tokens (user_id, purpose, token_hash, created_at, expires_at, used_at) values (?, 'PASSWORD_RESET', ?, ?, ?, ?)", [
      user.id,
      randomBytes(32),
      ago(DAY_MS),
      expires,
      used,
    ]);
  const userTokens = { expired: await userToken(ago(1000), null), used: await userToken(ahead(DAY_MS), ago(1000)), live: await userToken(ahead(DAY_MS), null) };
  const deviceToken = (expires: Date) =>
    insertId('insert into device_tokens (user_id, token_hash, created_at, last_used_at, expires_at) values (?, ?, ?, ?, ?)', [
      user.id,
      randomBytes(32),
      ago(DAY_MS),
      ago(DAY_MS),
      expires,
    ]);
  const deviceTokens = { expired: await deviceToken(ago(1000)), live: await deviceToken(ahead(DAY_MS)) };
  const mail = (expires: Date) =>
    insertId(
      "insert into mail_outbox (recipient, subject, template, text_body, html_body, created_at, expires_at) values ('a@example.com', 's', 't', 'x', 'x', ?, ?)",
      [ago(DAY_MS), expires],
    );
  const outbox = { expired: await mail(ago(1000)), live: await mail(ahead(DAY_MS)) };
  const auditEvent = (created: Date) =>
    insertId("insert into audit_events (type, actor_id, subject_id, data, created_at) values ('test.pruned', ?, ?, '{}'::jsonb, ?)", [
      user.id,
      user.id,
      created,
    ]);
  const audit = { old: await auditEvent(ago(31 * DAY_MS)), recent: await auditEvent(ago(29 * DAY_MS)) };

  const counts = await server.app.pruner.runOnce();

  expect(await remaining('sessions', Object.values(sessions))).toEqual([sessions.live]);
  expect(await remaining('user_tokens', Object.values(userTokens))).toEqual([userTokens.live]);
  expect(await remaining('device_tokens', Object.values(deviceTokens))).toEqual([deviceTokens.live]);
  expect(await remaining('mail_outbox', Object.values(outbox))).toEqual([outbox.live]);
  expect(await remaining('audit_events', Object.values(audit))).toEqual([audit.recent]);
  expectCount(counts, 'sessions', 2);
  expectCount(counts, 'userTokens', 2);
  expectCount(counts, 'deviceTokens', 1);
  expectCount(counts, 'mailOutbox', 1);
  expectCount(counts, 'auditEvents', 1);
  expect(info).toHaveBeenCalledWith({ pruned: counts }, 'pruned expired rows');
  info.mockRestore();

  // The signup's own session is live and still authenticates.
  expect((await server.gql(ME, {}, user.token)).body.data.me.id).toBe(user.id);
});

it('prunes a backlog larger than one batch completely', async () => {
  const user = await signupUser(server);
  const backlog = PRUNE_BATCH_SIZE + 25;
  await sqlRun(
    `insert into device_tokens (user_id, token_hash, created_at, last_used_at, expires_at)
     select ?, decode(md5(?::text || g::text), 'hex'), now() - interval '2 days', now() - interval '2 days', now() - interval '1 day'
       from generate_series(1, ?) g`,
    [user.id, user.id, backlog],
  );
  const counts = await server.app.pruner.runOnce();
  expectCount(counts, 'deviceTokens', backlog);
  const [left] = await sqlRun<{ n: number; live: number }[]>(
    'select count(*)::int as n, (count(*) filter (where expires_at > now()))::int as live from device_tokens where user_id = ?',
    [user.id],
  );
  expect(left).toEqual({ n: 1, live: 1 }); // the signup's own device token
});

it('keeps audit events forever with AUDIT_RETENTION_DAYS=0', async () => {
  const keeping = await startTestServer({ AUDIT_RETENTION_DAYS: '0' });
  try {
    const id = await insertId("insert into audit_events (type, data, created_at) values ('test.ancient', '{}'::jsonb, ?)", [
      new Date(Date.now() - 3650 * DAY_MS),
    ]);
    const counts = await keeping.app.pruner.runOnce();
    expect(counts.auditEvents).toBe(0);
    expect(await remaining('audit_events', [id])).toEqual([id]);
    await sqlRun('delete from audit_events where id = ?', [id]);
  } finally {
    await keeping.close();
  }
});

it('runs on the PRUNE_INTERVAL_SECONDS schedule and stops with the app', async () => {
  const scheduled = await startTestServer({ PRUNE_INTERVAL_SECONDS: '1' });
  const info = vi.spyOn(scheduled.logger, 'info');
  const pruneLines = () => info.mock.calls.filter((call) => call[1] === 'pruned expired rows').length;
  try {
    await vi.waitFor(() => expect(pruneLines()).toBeGreaterThan(0), { timeout: 5000, interval: 100 });
  } finally {
    await scheduled.close();
  }
  const afterClose = pruneLines();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(pruneLines()).toBe(afterClose);
});

/** The profile definition language of schema/profile-directives.graphql: the engine's, not the API's. */
const DEFINITION_DIRECTIVES = ['profile', 'identifier', 'private', 'readonly', 'default', 'length', 'unique'];
const definitionUse = new RegExp(`@(${DEFINITION_DIRECTIVES.join('|')})\\b|IdentifierFormat`);

it('serves no profile definition directive in introspection or _sdl', async () => {
  const res = await server.gql('{ __schema { directives { name } } __type(name: "IdentifierFormat") { name } _sdl }');
  const names = res.body.data.__schema.directives.map((d: { name: string }) => d.name);
  expect(names).toEqual(expect.arrayContaining(['include', 'skip', 'key', 'merge']));
  expect(names.filter((n: string) => DEFINITION_DIRECTIVES.includes(n))).toEqual([]);
  expect(res.body.data.__type).toBeNull();
  expect(res.body.data._sdl).toMatch(/type AccountProfile \{/);
  expect(res.body.data._sdl).not.toMatch(definitionUse);
});

it('serves no profile definition directive in the federation SDL either', async () => {
  const subgraph = await startTestServer({ FEDERATION: 'true' });
  try {
    const res = await subgraph.gql('{ __schema { directives { name } } _service { sdl } }');
    const names = res.body.data.__schema.directives.map((d: { name: string }) => d.name);
    expect(names.filter((n: string) => DEFINITION_DIRECTIVES.includes(n))).toEqual([]);
    expect(res.body.data._service.sdl).toMatch(/type AccountProfile/);
    expect(res.body.data._service.sdl).not.toMatch(definitionUse);
  } finally {
    await subgraph.close();
  }
});
