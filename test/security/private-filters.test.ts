import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, signupUser, signupWithEmail, startTestServer, uniqueIdentifier, type TestServer } from '../helpers/server.ts';

/**
 * Issue 10, findings 1 and 2: one access decision for every path. A condition or sort key on a
 * `@private` field is a read of every listed user's value, so only staff may use one (owners
 * are not exempt); pending (and absent) follow relationships are the followee's and the
 * requester's business only; `in:` lists are capped.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const USERS = `query($where: UserWhere, $orderBy: [UserOrder!]) {
  users(first: 50, where: $where, orderBy: $orderBy) { totalCount edges { node { id } } }
}`;
const FOLLOW = 'mutation($id: ID!) { follow(userId: $id) }';

const flag = (userId: string, column: 'is_staff' | 'is_superuser') =>
  server.db.orm.em.fork().execute(`update profile_account set ${column} = true where user_id = ?`, [userId]);

/** Signs up a user with an address and makes it staff, the way an administrator would. */
async function staffUser() {
  const user = await signupWithEmail(server, 'staff');
  await flag(user.id, 'is_staff');
  return user;
}

/** Signs up `identifier` with the address `email`. */
async function signupAddress(identifier: string, email: string) {
  const res = await server.gql(
    `mutation($i: String!, $p: String!, $profiles: ProfilesInput) { signup(input: { identifier: $i, password: $p, profiles: $profiles }) { user { id } } }`,
    { i: identifier, p: GOOD_PASSWORD, profiles: { mail: { email } } },
  );
  if (!res.body.data?.signup) throw new Error(res.text);
  return { id: res.body.data.signup.user.id as string, email };
}

async function list(where: unknown, orderBy?: unknown, token?: string) {
  return server.gql(USERS, { where, orderBy }, token);
}

/** The `FORBIDDEN` paths of a response, failing when it answered data instead. */
function forbiddenPaths(res: Awaited<ReturnType<typeof list>>): string[] {
  expect(res.body.data?.users ?? null, res.text).toBeNull();
  expect(res.body.errors?.[0]?.extensions?.code, res.text).toBe('FORBIDDEN');
  return Object.keys(res.body.errors[0].extensions.fields).sort();
}

const ids = (res: Awaited<ReturnType<typeof list>>): string[] => {
  if (!res.body.data) throw new Error(res.text);
  return res.body.data.users.edges.map((e: { node: { id: string } }) => e.node.id);
};

describe('conditions and sort keys on private fields', () => {
  let victim: Awaited<ReturnType<typeof signupWithEmail>>;
  let other: Awaited<ReturnType<typeof signupWithEmail>>;
  beforeAll(async () => {
    [victim, other] = await Promise.all([signupWithEmail(server, 'victim'), signupWithEmail(server, 'other')]);
  });

  /** Each probe an attacker would use, with the input path it must be refused at. */
  const probes = (): { name: string; where?: unknown; orderBy?: unknown; paths: string[] }[] => {
    const me = { identifier: { eq: victim.identifier } };
    const first = victim.email[0]!;
    return [
      { name: 'profile filter startsWith', where: { ...me, mail: { email: { startsWith: first } } }, paths: ['where.mail.email'] },
      { name: 'profile filter eq', where: { ...me, mail: { email: { eq: victim.email } } }, paths: ['where.mail.email'] },
      {
        name: 'profile filter isNull on a readonly private field',
        where: { ...me, mail: { emailConfirmedAt: { isNull: true } } },
        paths: ['where.mail.emailConfirmedAt'],
      },
      { name: 'account.lastLogin', where: { ...me, account: { lastLogin: { isNull: false } } }, paths: ['where.account.lastLogin'] },
      { name: 'account.email', where: { ...me, account: { email: { isNull: true } } }, paths: ['where.account.email'] },
      { name: 'data eq', where: { ...me, data: [{ key: 'mail.email', eq: victim.email }] }, paths: ['where.data[0]'] },
      { name: 'data in', where: { ...me, data: [{ key: 'mail.email', in: [victim.email, other.email] }] }, paths: ['where.data[0]'] },
      { name: 'data contains', where: { ...me, data: [{ key: 'mail.email', contains: first }] }, paths: ['where.data[0]'] },
      { name: 'data isNull', where: { ...me, data: [{ key: 'mail.email', isNull: false }] }, paths: ['where.data[0]'] },
      {
        name: 'data with an unqualified private key',
        where: {
          ...me,
          data: [
            { key: 'bio', isNull: true },
            { key: 'emailConfirmedAt', isNull: true },
          ],
        },
        paths: ['where.data[1]'],
      },
      { name: 'inside AND', where: { AND: [me, { mail: { email: { startsWith: first } } }] }, paths: ['where.AND[1].mail.email'] },
      {
        name: 'inside OR',
        where: { OR: [{ identifier: { eq: 'nobody-at-all' } }, { AND: [me, { data: [{ key: 'mail.email', eq: victim.email }] }] }] },
        paths: ['where.OR[1].AND[1].data[0]'],
      },
      {
        name: 'orderBy',
        where: { identifier: { in: [victim.identifier, other.identifier] } },
        orderBy: [{ field: 'mail.email' }],
        paths: ['orderBy[0].field'],
      },
      {
        name: 'orderBy an unqualified private key',
        orderBy: [{ field: 'identifier' }, { field: 'lastLogin', direction: 'DESC' }],
        paths: ['orderBy[1].field'],
      },
      {
        name: 'every path at once',
        where: { ...me, mail: { email: { eq: victim.email } } },
        orderBy: [{ field: 'mail.email' }],
        paths: ['orderBy[0].field', 'where.mail.email'],
      },
    ];
  };

  it.each(['a stranger with no session', 'another signed-in user', 'the owner'])('are FORBIDDEN, with the input path, to %s', async (who) => {
    const token = who === 'the owner' ? victim.token : who === 'another signed-in user' ? other.token : undefined;
    for (const probe of probes()) {
      const res = await list(probe.where, probe.orderBy, token);
      expect(forbiddenPaths(res), probe.name).toEqual(probe.paths);
    }
  });

  it('resolve an unqualified key to its private field first (email, with account not installed)', async () => {
    const mailOnly = await startTestServer({ PROFILES: 'mail,social' });
    try {
      const user = await signupWithEmail(mailOnly);
      const where = { identifier: { eq: user.identifier }, data: [{ key: 'email', eq: user.email }] };
      for (const token of [undefined, user.token]) {
        const filtered = await mailOnly.gql(USERS, { where }, token);
        expect(forbiddenPaths(filtered)).toEqual(['where.data[0]']);
        const sorted = await mailOnly.gql(USERS, { orderBy: [{ field: 'email' }] }, token);
        expect(forbiddenPaths(sorted)).toEqual(['orderBy[0].field']);
      }
    } finally {
      await mailOnly.close();
    }
  });

  it('answer staff correctly, for filters, counts and order', async () => {
    const staff = await staffUser();
    const prefix = uniqueIdentifier('order');
    // Addresses sort in a different order than identifiers: a's is zz-…
    const [b, a, c] = await Promise.all(
      [
        ['b', `${prefix}-b@example.com`],
        ['a', `zz-${prefix}@example.com`],
        ['c', `${prefix}-c@example.com`],
      ].map(([n, address]) => signupAddress(`${prefix}-${n}`, address!)),
    );
    const mine = { identifier: { startsWith: prefix } };

    const one = await list({ ...mine, mail: { email: { eq: b!.email } } }, undefined, staff.token);
    expect(one.body.data?.users, one.text).toEqual({ totalCount: 1, edges: [{ node: { id: b!.id } }] });
    const byBag = await list({ ...mine, data: [{ key: 'mail.email', in: [b!.email, c!.email] }] }, [{ field: 'identifier' }], staff.token);
    expect(ids(byBag)).toEqual([b!.id, c!.id]);
    const none = await list({ ...mine, mail: { email: { startsWith: 'no-such-' } } }, undefined, staff.token);
    expect(none.body.data.users.totalCount).toBe(0);
    const either = await list(
      { ...mine, OR: [{ mail: { email: { contains: `${prefix}-B@` } } }, { data: [{ key: 'mail.email', contains: 'zz-' }] }] },
      [{ field: 'identifier' }],
      staff.token,
    );
    expect(ids(either)).toEqual([a!.id, b!.id]);
    const ordered = await list(mine, [{ field: 'mail.email', direction: 'ASC' }], staff.token);
    expect(ids(ordered)).toEqual([b!.id, c!.id, a!.id]);
    const unconfirmed = await list(
      { ...mine, data: [{ key: 'emailConfirmedAt', isNull: true }] },
      [{ field: 'lastLogin' }, { field: 'identifier' }],
      staff.token,
    );
    expect(unconfirmed.body.data.users.totalCount).toBe(3);
  });

  it('leave non-private fields to everyone', async () => {
    const prefix = uniqueIdentifier('public');
    const signup = (n: string, firstName: string, bio: string) =>
      server.gql(
        `mutation($i: String!, $p: String!, $profiles: ProfilesInput) { signup(input: { identifier: $i, password: $p, profiles: $profiles }) { user { id } } }`,
        { i: `${prefix}-${n}`, p: GOOD_PASSWORD, profiles: { account: { firstName }, social: { bio } } },
      );
    const made = await Promise.all([signup('x', 'Ada', 'poet'), signup('y', 'Bea', 'engineer'), signup('z', 'Cy', 'poet')]);
    const [x, , z] = made.map((r) => r.body.data.signup.user.id as string);
    const stranger = await signupUser(server);
    for (const token of [undefined, stranger.token]) {
      const res = await list(
        { identifier: { startsWith: prefix }, data: [{ key: 'bio', eq: 'poet' }], OR: [{ account: { firstName: { in: ['Ada', 'Cy'] } } }] },
        [{ field: 'account.firstName', direction: 'DESC' }, { field: 'createdAt' }],
        token,
      );
      expect(ids(res)).toEqual([z, x]);
      expect(res.body.data.users.totalCount).toBe(2);
    }
  });

  it('cost no statement when refused to a stranger, and no extra one without a private field', async () => {
    const me = { identifier: { eq: victim.identifier } };
    server.resetQueries();
    forbiddenPaths(await list({ ...me, mail: { email: { startsWith: 'a' } } }));
    // (Mail sent after the signups above may still be writing its own rows meanwhile.)
    const mine = () => server.queries.filter((q) => /\busers u\b|profile_|sessions/.test(q));
    expect(mine()).toEqual([]);

    // A signed-in viewer listing by public fields never loads its account flags.
    await list(me, [{ field: 'createdAt' }], other.token);
    server.resetQueries();
    const res = await list(me, [{ field: 'createdAt' }], other.token);
    expect(ids(res)).toEqual([victim.id]);
    expect(server.queries.filter((q) => q.includes('from "profile_account" as p'))).toEqual([]);
    // …nor for the same viewer's refused private filter: the staff test reads the flags the
    // session lookup already brought (the viewer's account row), so only that statement runs.
    server.resetQueries();
    forbiddenPaths(await list({ ...me, mail: { email: { startsWith: 'a' } } }, undefined, other.token));
    expect(server.queries.filter((q) => q.includes('from "profile_account" as p'))).toHaveLength(0);
    expect(mine().filter((q) => q.includes('users u'))).toHaveLength(1); // the session lookup only
  });
});

describe('pending follow relationships', () => {
  it('are listed only for the followee (who asked me) and the requester (whom I asked)', async () => {
    const followee = await signupUser(server);
    await server.gql(`mutation { setData(key: "followRequiresConfirmation", value: true) { id } }`, {}, followee.token);
    const [requester, confirmedFan, bystander, staff] = await Promise.all([signupUser(server), signupUser(server), signupUser(server), staffUser()]);
    expect((await server.gql(FOLLOW, { id: followee.id }, requester.token)).body.data.follow).toBe('PENDING');
    expect((await server.gql(FOLLOW, { id: followee.id }, confirmedFan.token)).body.data.follow).toBe('PENDING');
    await server.gql('mutation($id: ID!) { confirmFollow(followerId: $id) }', { id: confirmedFan.id }, followee.token);

    const askedFollowee = { follows: followee.id, followStatus: 'PENDING' };
    const askedByRequester = { followedBy: requester.id, followStatus: 'PENDING' };
    for (const token of [undefined, bystander.token, staff.token]) {
      expect(forbiddenPaths(await list(askedFollowee, undefined, token))).toEqual(['where.followStatus']);
      expect(forbiddenPaths(await list(askedByRequester, undefined, token))).toEqual(['where.followStatus']);
      expect(forbiddenPaths(await list({ OR: [{ identifier: { eq: 'x' } }, askedFollowee] }, undefined, token))).toEqual(['where.OR[1].followStatus']);
      // NONE would give the pending ones away as everyone minus CONFIRMED minus NONE.
      expect(forbiddenPaths(await list({ follows: followee.id, followStatus: 'NONE' }, undefined, token))).toEqual(['where.followStatus']);
      // Confirmed follows stay public.
      expect(ids(await list({ follows: followee.id }, undefined, token))).toEqual([confirmedFan.id]);
    }
    // The requester sees whom it asked, but not who else asked the followee.
    expect(forbiddenPaths(await list(askedFollowee, undefined, requester.token))).toEqual(['where.followStatus']);
    expect(ids(await list(askedByRequester, undefined, requester.token))).toEqual([followee.id]);
    expect(ids(await list(askedFollowee, undefined, followee.token))).toEqual([requester.id]);
    const count = await list({ AND: [askedFollowee] }, undefined, followee.token);
    expect(count.body.data.users.totalCount).toBe(1);
    // followRequests stays the followee's alone.
    const requests = (token?: string) => server.gql('query($id: ID) { user(id: $id) { followRequests { follower { id } } } }', { id: followee.id }, token);
    expect((await requests(followee.token)).body.data.user.followRequests).toEqual([{ follower: { id: requester.id } }]);
    expect((await requests(staff.token)).body.data.user.followRequests).toBeNull();
  });
});

describe('in: lists', () => {
  it('hold at most 100 values', async () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `nobody-${i}`);
    const ok = await list({ identifier: { in: values(100) } });
    expect(ok.body.data.users.totalCount).toBe(0);
    const tooMany = await list({ identifier: { in: values(101) } });
    expect(tooMany.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'where.identifier.in': expect.any(String) } });
    const inBag = await list({ AND: [{ data: [{ key: 'bio', in: values(101) }] }] });
    expect(inBag.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'where.AND[0].data[0].in': expect.any(String) } });
  });

  it('hold at most 300 values in all, among at most 50 conditions nested at most 5 deep', async () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `nobody-${i}`);
    const lists = (n: number) => Array.from({ length: n }, () => ({ identifier: { in: values(100) } }));
    expect((await list({ OR: lists(3) })).body.data.users.totalCount).toBe(0);
    const tooManyValues = await list({ OR: lists(4) });
    expect(tooManyValues.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { where: expect.stringMatching(/300 in: values/) } });

    const conditions = (n: number) => Array.from({ length: n }, (_, i) => ({ identifier: { eq: `nobody-${i}` } }));
    expect((await list({ OR: conditions(50) })).body.data.users.totalCount).toBe(0);
    const tooMany = await list({ OR: conditions(51) });
    expect(tooMany.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { where: expect.stringMatching(/50 conditions/) } });

    const nest = (depth: number): Record<string, unknown> => (depth === 0 ? { identifier: { eq: 'nobody' } } : { AND: [nest(depth - 1)] });
    expect((await list(nest(5))).body.data.users.totalCount).toBe(0);
    const tooDeep = await list(nest(6));
    expect(tooDeep.body.errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: { 'where.AND[0].AND[0].AND[0].AND[0].AND[0].AND': expect.any(String) },
    });
  });
});
