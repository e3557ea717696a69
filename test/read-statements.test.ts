import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupStaff, signupUser, startTestServer, type TestServer } from './helpers/server.ts';

// SQL statements per read, counted (not timed, so they hold on any machine): the hot read
// paths cost a fixed number of statements whatever the page holds, and a session adds at most
// one (the session lookup, which also brings the viewer's flags). The shapes are those of
// bench/'s scenarios Q1, Q2, Q2b and Q3.

const Q1 = `query($id: ID!) { user(id: $id) { id identifier account { firstName lastName } mail { email } social { bio } data(key: "email") followersCount } }`;
const Q2 = `query($first: Int!, $after: String) { users(first: $first, after: $after) { edges { cursor node { id account { firstName lastName } mail { email } social { bio } data(key: "email") } } pageInfo { hasNextPage endCursor } } }`;
const Q2B = `query($first: Int!) { users(first: $first) { edges { node { id account { firstName lastName } mail { email } social { bio } } } } }`;
const Q3 = `query($id: ID!) { user(id: $id) { followers(first: 20) { edges { since node { id identifier mail { email } } } } } }`;
const ME = `{ me { id account { firstName isStaff } mail { email } social { bio } data(key: "email") followersCount } }`;
const BY_IDS = `query($ids: [ID!]!) { _usersByIds(ids: $ids) { id account { firstName } mail { email } social { bio } } }`;

let server: TestServer;
let staffToken: string;
let ids: string[] = [];
let popular: string;

beforeAll(async () => {
  server = await startTestServer();
  ({
    staff: { token: staffToken },
  } = await signupStaff(server, []));
  // 110 users with every profile row written (a missing row of an auto-created profile is
  // created on first read, which is a write, not what these counts are about).
  const created = [];
  for (let i = 0; i < 110; i++) created.push(await signupUser(server));
  ids = created.map((u) => u.id);
  const em = server.db.orm.em.fork();
  await em.execute(
    `insert into profile_account (user_id, first_name, last_name) select id, 'First' || id, 'Last' || id from users on conflict (user_id) do update set first_name = excluded.first_name, last_name = excluded.last_name`,
  );
  await em.execute(
    `insert into profile_mail (user_id, email) select id, 'u' || id || '@example.com' from users on conflict (user_id) do update set email = excluded.email`,
  );
  await em.execute(`insert into profile_social (user_id, bio) select id, 'Bio ' || id from users on conflict (user_id) do update set bio = excluded.bio`);
  popular = ids[0]!;
  await em.execute(
    `insert into follows (follower_id, followee_id, status, created_at, confirmed_at) select id, ${popular}, 'CONFIRMED', now(), now() - (id || ' seconds')::interval from users where id <> ${popular} on conflict do nothing`,
  );
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function count(query: string, variables: Record<string, unknown>, token?: string) {
  server.resetQueries();
  const res = await server.gql(query, variables, token);
  expect(res.body.errors, res.text).toBeUndefined();
  return { n: server.queries.length, data: res.body.data, sql: server.queries.join('\n') };
}

describe.each([
  ['anonymous', undefined, 0],
  ['with a staff session', 'staff', 1],
] as const)('statements per read, %s', (_label, who, extra) => {
  const token = () => (who === 'staff' ? staffToken : undefined);

  it('Q1: one user with three profiles, the bag and a count', async () => {
    const { n, data, sql } = await count(Q1, { id: popular }, token());
    expect(data.user.followersCount).toBeGreaterThanOrEqual(100);
    expect(data.user.account.firstName).toBe(`First${popular}`);
    expect(data.user.mail.email).toBe(who ? `u${popular}@example.com` : null);
    expect(n, sql).toBe(1 + extra);
  });

  it.each([10, 100])('Q2 and Q2b: a page of %i users costs what a page of any size costs', async (size) => {
    const q2 = await count(Q2, { first: size }, token());
    expect(q2.data.users.edges).toHaveLength(size);
    expect(q2.data.users.edges[0].node.data).toBe(who ? q2.data.users.edges[0].node.mail.email : null);
    expect(q2.n, q2.sql).toBe(1 + extra);
    const q2b = await count(Q2B, { first: size }, token());
    expect(q2b.n, q2b.sql).toBe(1 + extra);
  });

  it('Q2 on a later page costs what the first does', async () => {
    const first = await count(Q2, { first: 10 }, token());
    const later = await count(Q2, { first: 10, after: first.data.users.pageInfo.endCursor }, token());
    expect(later.data.users.edges).toHaveLength(10);
    expect(later.n, later.sql).toBe(first.n);
  });

  it('Q3: twenty followers with their mail profile', async () => {
    const { n, data, sql } = await count(Q3, { id: popular }, token());
    expect(data.user.followers.edges).toHaveLength(20);
    expect(data.user.followers.edges[0].node.mail.email).toBe(who ? `u${data.user.followers.edges[0].node.id}@example.com` : null);
    expect(n, sql).toBeLessThanOrEqual(2 + extra);
  });

  it.each([10, 100])('_usersByIds with %i ids: one statement', async (size) => {
    const { n, data, sql } = await count(BY_IDS, { ids: ids.slice(0, size) }, token());
    expect(data._usersByIds).toHaveLength(size);
    expect(n, sql).toBe(1 + extra);
  });
});

it('me with three profiles, the bag and a count: the session lookup and one statement', async () => {
  const user = await signupUser(server);
  const { n, data, sql } = await count(ME, {}, user.token);
  expect(data.me.id).toBe(user.id);
  expect(n, sql).toBeLessThanOrEqual(2);
});
