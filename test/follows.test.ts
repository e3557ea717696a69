import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const FOLLOW = 'mutation($id: ID!) { follow(userId: $id) }';
const UNFOLLOW = 'mutation($id: ID!) { unfollow(userId: $id) }';
const CONFIRM = 'mutation($id: ID!) { confirmFollow(followerId: $id) }';
const REJECT = 'mutation($id: ID!) { rejectFollow(followerId: $id) }';
const REMOVE = 'mutation($id: ID!) { removeFollower(followerId: $id) }';
const GRAPH = `query($id: ID) { user(id: $id) {
  followersCount followingCount viewerFollowStatus
  followers { edges { node { id } } } following { edges { node { id } } }
  followRequests { follower { id } }
} }`;

async function graph(userId: string, token?: string) {
  const res = await server.gql(GRAPH, { id: userId }, token);
  if (res.body.errors) throw new Error(res.text);
  return res.body.data.user;
}

async function confirmedRows(followeeId: string) {
  const [row] = await server.db.orm.em
    .fork()
    .execute<{ n: number }[]>(`select count(*)::int as n from follows where followee_id = ? and status = 'CONFIRMED'`, [followeeId]);
  return row!.n;
}

describe('follows over HTTP', () => {
  it('confirms at once, or makes a pending request the followee confirms, rejects or removes', async () => {
    const [a, b, c, d] = await Promise.all([signupUser(server), signupUser(server), signupUser(server), signupUser(server)]);

    expect((await server.gql(FOLLOW, { id: b.id }, a.token)).body.data.follow).toBe('CONFIRMED');
    expect(await graph(b.id, a.token)).toMatchObject({ followersCount: 1, viewerFollowStatus: 'CONFIRMED', followers: { edges: [{ node: { id: a.id } }] } });

    await server.gql(`mutation { setData(key: "followRequiresConfirmation", value: true) { id } }`, {}, b.token);
    expect((await server.gql(FOLLOW, { id: b.id }, c.token)).body.data.follow).toBe('PENDING');
    expect((await server.gql(FOLLOW, { id: b.id }, c.token)).body.data.follow).toBe('PENDING');
    const asOwner = await graph(b.id, b.token);
    expect(asOwner.followRequests).toEqual([{ follower: { id: c.id } }]);
    expect(asOwner.followersCount).toBe(1);
    expect((await graph(b.id, c.token)).viewerFollowStatus).toBe('PENDING');
    expect((await graph(b.id, a.token)).followRequests).toBeNull();

    expect((await server.gql(CONFIRM, { id: c.id }, b.token)).body.data.confirmFollow).toBe(true);
    const afterConfirm = await graph(b.id, b.token);
    expect(afterConfirm.followersCount).toBe(2);
    expect(afterConfirm.followers.edges.map((e: any) => e.node.id)).toEqual([c.id, a.id]); // newest first
    expect(afterConfirm.followRequests).toEqual([]);
    expect((await graph(c.id)).following.edges).toEqual([{ node: { id: b.id } }]);

    expect((await server.gql(FOLLOW, { id: b.id }, d.token)).body.data.follow).toBe('PENDING');
    expect((await server.gql(REJECT, { id: d.id }, b.token)).body.data.rejectFollow).toBe(true);
    expect((await graph(b.id, d.token)).viewerFollowStatus).toBe('NONE');

    expect((await server.gql(UNFOLLOW, { id: b.id }, a.token)).body.data.unfollow).toBe(true);
    expect((await server.gql(REMOVE, { id: c.id }, b.token)).body.data.removeFollower).toBe(true);
    const end = await graph(b.id, b.token);
    expect(end).toMatchObject({ followersCount: 0, followers: { edges: [] }, followRequests: [] });
    expect(end.followersCount).toBe(await confirmedRows(b.id));
    expect((await graph(a.id)).followingCount).toBe(0);
  });

  it('refuses self-follows, unknown users and anonymous callers, and reports a missing request', async () => {
    const a = await signupUser(server);
    expect((await server.gql(FOLLOW, { id: a.id }, a.token)).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await server.gql(FOLLOW, { id: '999999999999' }, a.token)).body.errors[0].extensions.code).toBe('NOT_FOUND');
    expect((await server.gql(FOLLOW, { id: a.id })).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await server.gql(CONFIRM, { id: '999999999999' }, a.token)).body.errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('filters users by relationship', async () => {
    const prefix = uniqueIdentifier('rel');
    const [hub, x, y, z] = await Promise.all(['hub', 'x', 'y', 'z'].map((n) => signupUser(server, `${prefix}-${n}`)));
    await server.gql(FOLLOW, { id: hub!.id }, x!.token);
    await server.gql(FOLLOW, { id: hub!.id }, y!.token);
    await server.gql(FOLLOW, { id: z!.id }, hub!.token);
    const ids = async (where: string, token?: string) =>
      (await server.gql(`{ users(where: { ${where} }, orderBy: [{ field: "identifier" }]) { edges { node { id } } } }`, {}, token)).body.data.users.edges.map(
        (e: any) => e.node.id,
      );
    expect(await ids(`follows: "${hub!.id}"`)).toEqual([x!.id, y!.id]);
    expect(await ids(`followedBy: "${hub!.id}"`)).toEqual([z!.id]);
    // Pending requests are the followee's business (test/security/private-filters.test.ts).
    expect(await ids(`follows: "${hub!.id}", followStatus: PENDING`, hub!.token)).toEqual([]);
  });

  it('pages follower lists with cursors', async () => {
    const star = await signupUser(server);
    const fans = [];
    for (let i = 0; i < 5; i++) {
      const fan = await signupUser(server);
      await server.gql(FOLLOW, { id: star.id }, fan.token);
      fans.push(fan.id);
    }
    const page = async (after?: string) =>
      (
        await server.gql(
          `query($id: ID, $after: String) { user(id: $id) { followers(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`,
          { id: star.id, after },
        )
      ).body.data.user.followers;
    const p1 = await page();
    const p2 = await page(p1.pageInfo.endCursor);
    const p3 = await page(p2.pageInfo.endCursor);
    expect([...p1.edges, ...p2.edges, ...p3.edges].map((e: any) => e.node.id)).toEqual([...fans].reverse());
    expect(p3.pageInfo.hasNextPage).toBe(false);
  });
});

describe('follows under concurrency', () => {
  it('16 concurrent follows make one row; 16 concurrent confirmations make one transition', async () => {
    const [a, b] = await Promise.all([signupUser(server), signupUser(server)]);
    const follows = await Promise.all(Array.from({ length: 16 }, () => server.gql(FOLLOW, { id: b.id }, a.token)));
    for (const r of follows) expect([r.status, r.body.data?.follow]).toEqual([200, 'CONFIRMED']);
    const [row] = await server.db.orm.em
      .fork()
      .execute<{ n: number }[]>('select count(*)::int as n from follows where follower_id = ? and followee_id = ?', [a.id, b.id]);
    expect(row!.n).toBe(1);

    const c = await signupUser(server);
    await server.gql(`mutation { setData(key: "followRequiresConfirmation", value: true) { id } }`, {}, c.token);
    await server.gql(FOLLOW, { id: c.id }, a.token);
    const em = server.db.orm.em.fork();
    const before = await em.execute<{ confirmed_at: unknown }[]>('select confirmed_at from follows where follower_id = ? and followee_id = ?', [a.id, c.id]);
    expect(before[0]!.confirmed_at).toBeNull();
    const confirms = await Promise.all(Array.from({ length: 16 }, () => server.gql(CONFIRM, { id: a.id }, c.token)));
    for (const r of confirms) expect([r.status, r.body.data?.confirmFollow]).toEqual([200, true]);
    const after = await em.execute<{ status: string }[]>('select status from follows where follower_id = ? and followee_id = ?', [a.id, c.id]);
    expect(after).toEqual([{ status: 'CONFIRMED' }]);
    expect((await graph(c.id)).followersCount).toBe(1);
  });

  it('confirmFollow racing unfollow leaves no row or a confirmed row, and counts match, 50 times', async () => {
    const target = await signupUser(server);
    await server.gql(`mutation { setData(key: "followRequiresConfirmation", value: true) { id } }`, {}, target.token);
    const follower = await signupUser(server);
    for (let i = 0; i < 50; i++) {
      await server.gql(FOLLOW, { id: target.id }, follower.token);
      const [confirm, unfollow] = await Promise.all([
        server.gql(CONFIRM, { id: follower.id }, target.token),
        server.gql(UNFOLLOW, { id: target.id }, follower.token),
      ]);
      expect(confirm.status).toBe(200);
      expect(unfollow.body.data.unfollow).toBe(true);
      if (confirm.body.errors) expect(confirm.body.errors[0].extensions.code).toBe('NOT_FOUND');
      const rows = await server.db.orm.em
        .fork()
        .execute<{ status: string }[]>('select status from follows where follower_id = ? and followee_id = ?', [follower.id, target.id]);
      expect(rows.length === 0 || rows[0]!.status === 'CONFIRMED').toBe(true);
      expect((await graph(target.id)).followersCount).toBe(await confirmedRows(target.id));
      await server.gql(UNFOLLOW, { id: target.id }, follower.token);
    }
  });
});

describe('follow fields per page', () => {
  it('cost the same number of SQL statements for 5 and for 50 users', async () => {
    const prefix = uniqueIdentifier('fpage');
    const viewer = await signupUser(server);
    await server.db.orm.em
      .fork()
      .execute(
        `insert into users (identifier, identifier_key, password) select ? || '-' || lpad(g::text, 2, '0'), ? || '-' || lpad(g::text, 2, '0'), '!' from generate_series(1, 50) g`,
        [prefix, prefix.toLowerCase()],
      );
    await server.db.orm.em
      .fork()
      .execute(`insert into follows (follower_id, followee_id, status, confirmed_at) select ?, id, 'CONFIRMED', now() from users where identifier_key like ?`, [
        viewer.id,
        `${prefix.toLowerCase()}-%`,
      ]);
    const count = async (first: number) => {
      server.resetQueries();
      const res = await server.gql(
        `{ users(first: ${first}, where: { identifier: { startsWith: "${prefix}" } }) { edges { node { id followersCount followingCount viewerFollowStatus } } } }`,
        {},
        viewer.token,
      );
      expect(res.body.data.users.edges).toHaveLength(first);
      for (const e of res.body.data.users.edges) expect(e.node).toMatchObject({ followersCount: 1, viewerFollowStatus: 'CONFIRMED' });
      return server.queries.length;
    };
    expect(await count(5)).toBe(await count(50));
  });
});
