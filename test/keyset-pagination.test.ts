import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupUser, startTestServer, uniqueIdentifier, type GqlResponse, type TestServer } from './helpers/server.ts';

// Cursors of `users` and of the follow lists hold their row's sort keys (keyset pagination):
// walking a list page by page gives what one big page gives, rows inserted meanwhile neither
// repeat nor push rows off a page, and a cursor made for another sort is refused.

const PAGE = `query($first: Int!, $after: String, $where: UserWhere, $orderBy: [UserOrder!]) {
  users(first: $first, after: $after, where: $where, orderBy: $orderBy) { edges { cursor node { id identifier account { firstName } } } pageInfo { hasNextPage hasPreviousPage endCursor } }
}`;

let server: TestServer;
const prefix = uniqueIdentifier('ks');
const names = ['delta', null, 'alpha', 'charlie', null, 'bravo', 'alpha', 'echo', null, 'foxtrot', 'bravo'];

beforeAll(async () => {
  server = await startTestServer();
  const em = server.db.orm.em.fork();
  for (const [i, name] of names.entries()) {
    const user = await signupUser(server, `${prefix}-${String(i).padStart(2, '0')}`);
    await em.execute('insert into profile_account (user_id, first_name) values (?, ?) on conflict (user_id) do update set first_name = excluded.first_name', [
      user.id,
      name,
    ]);
  }
}, 60_000);
afterAll(async () => {
  await server?.close();
});

async function walk(variables: Record<string, unknown>, size: number, between?: (page: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const res: GqlResponse = await server.gql(PAGE, { ...variables, first: size, after });
    expect(res.body.errors, res.text).toBeUndefined();
    const { edges, pageInfo } = res.body.data.users as {
      edges: { node: { identifier: string } }[];
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string };
    };
    expect(pageInfo.hasPreviousPage).toBe(after !== null);
    seen.push(...edges.map((e: { node: { identifier: string } }) => e.node.identifier));
    if (!pageInfo.hasNextPage) return seen;
    after = pageInfo.endCursor;
    await between?.(page);
  }
  throw new Error('the walk did not end');
}

describe('users: keyset cursors', () => {
  const where = { identifier: { startsWith: prefix } };

  it.each([
    ['a nullable profile field, ascending', [{ field: 'account.firstName', direction: 'ASC' }]],
    ['a nullable profile field, descending', [{ field: 'account.firstName', direction: 'DESC' }]],
    [
      'two keys in opposite directions',
      [
        { field: 'account.firstName', direction: 'DESC' },
        { field: 'identifier', direction: 'DESC' },
      ],
    ],
    ['the default order', undefined],
  ])('pages of 2 by %s give what one page gives', async (_label, orderBy) => {
    const whole = await walk({ where, orderBy }, 100);
    expect(whole).toHaveLength(names.length);
    expect(await walk({ where, orderBy }, 2)).toEqual(whole);
  });

  it('rows inserted before the cursor while walking neither repeat nor shift the later pages', async () => {
    const orderBy = [{ field: 'identifier', direction: 'ASC' }];
    const before = await walk({ where, orderBy }, 100);
    let added = 0;
    const walked = await walk({ where, orderBy }, 3, async () => {
      // Sorts before every row already listed: an offset cursor would repeat a row.
      await signupUser(server, `${prefix}-0${added++}a`);
    });
    expect(walked).toEqual(before);
  });

  it('a cursor made for another order is refused', async () => {
    const res = await server.gql(PAGE, { first: 2, where, orderBy: [{ field: 'identifier', direction: 'ASC' }] });
    const cursor = res.body.data.users.pageInfo.endCursor;
    const other = await server.gql(PAGE, { first: 2, where, after: cursor, orderBy: [{ field: 'identifier', direction: 'DESC' }] });
    expect(other.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const garbage = await server.gql(PAGE, { first: 2, where, after: 'bm90IGEgY3Vyc29y' });
    expect(garbage.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('follow lists: keyset cursors', () => {
  const FOLLOWERS = `query($id: ID!, $after: String) { user(id: $id) { followers(first: 3, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`;

  it('new followers arriving while a list is walked do not repeat the followers already listed', async () => {
    const star = await signupUser(server);
    const fans = [];
    for (let i = 0; i < 8; i++) {
      const fan = await signupUser(server);
      fans.push(fan);
      const res = await server.gql('mutation($id: ID!) { follow(userId: $id) }', { id: star.id }, fan.token);
      expect(res.body.errors, res.text).toBeUndefined();
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: GqlResponse = await server.gql(FOLLOWERS, { id: star.id, after });
      expect(res.body.errors, res.text).toBeUndefined();
      const { edges, pageInfo } = res.body.data.user.followers as { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
      seen.push(...edges.map((e: { node: { id: string } }) => e.node.id));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
      // A newer follower sorts first (newest first): an offset cursor would repeat a row.
      const late = await signupUser(server);
      await server.gql('mutation($id: ID!) { follow(userId: $id) }', { id: star.id }, late.token);
    }
    expect(seen).toEqual(fans.map((f) => f.id).reverse());
  });
});
