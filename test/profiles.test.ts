import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GOOD_PASSWORD, LOGIN, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const SIGNUP_WITH_PROFILES = `mutation($identifier: String!, $password: String!, $profiles: ProfilesInput) {
  signup(input: { identifier: $identifier, password: $password, profiles: $profiles }) { token user { id } }
}`;

async function signupWith(profiles: Record<string, unknown>, identifier = uniqueIdentifier()) {
  const res = await server.gql(SIGNUP_WITH_PROFILES, { identifier, password: GOOD_PASSWORD, profiles });
  if (!res.body.data?.signup) throw new Error(res.text);
  return { identifier, token: res.body.data.signup.token as string, id: res.body.data.signup.user.id as string };
}

/** Makes a user staff the way an administrator (or the importer) would: directly in its account row. */
async function makeStaff(userId: string) {
  await server.db.orm.em.fork().execute('update profile_account set is_staff = true where user_id = ?', [userId]);
}

const email = () => `${uniqueIdentifier('mail')}@example.com`;

describe('signup with profiles', () => {
  it('creates every auto-created profile in the signup and stores the values given', async () => {
    const address = email();
    const user = await signupWith({ mail: { email: address }, account: { firstName: 'Ada', lastName: 'Lovelace' } });
    const me = await server.gql(
      `{ me { mail { email emailConfirmedAt } account { firstName lastName isActive isStaff } social { followRequiresConfirmation bio } } }`,
      {},
      user.token,
    );
    expect(me.body.data.me).toEqual({
      mail: { email: address, emailConfirmedAt: null },
      account: { firstName: 'Ada', lastName: 'Lovelace', isActive: true, isStaff: false },
      social: { followRequiresConfirmation: false, bio: null },
    });
    const [row] = await server.db.orm.em
      .fork()
      .execute(
        `select (select count(*) from profile_mail where user_id = ?)::int + (select count(*) from profile_account where user_id = ?)::int + (select count(*) from profile_social where user_id = ?)::int as n`,
        [user.id, user.id, user.id],
      );
    expect(row!.n).toBe(3);
  });

  it('refuses readonly fields, over-long values and invalid emails before creating anything', async () => {
    const identifier = uniqueIdentifier();
    const res = await server.gql(SIGNUP_WITH_PROFILES, {
      identifier,
      password: GOOD_PASSWORD,
      profiles: { account: { isStaff: true, firstName: 'x'.repeat(151) } },
    });
    // A readonly field is refused as FORBIDDEN on every write path (signup, updateProfiles, setData), before its value is looked at.
    expect(res.body.errors[0].extensions.code, res.text).toBe('FORBIDDEN');
    expect(Object.keys(res.body.errors[0].extensions.fields)).toEqual(['input.profiles.account.isStaff']);
    const overLong = await server.gql(SIGNUP_WITH_PROFILES, { identifier, password: GOOD_PASSWORD, profiles: { account: { firstName: 'x'.repeat(151) } } });
    expect(overLong.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(Object.keys(overLong.body.errors[0].extensions.fields)).toEqual(['input.profiles.account.firstName']);
    const invalid = await server.gql(SIGNUP_WITH_PROFILES, { identifier, password: GOOD_PASSWORD, profiles: { mail: { email: 'not-an-email' } } });
    expect(invalid.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await server.gql('query($i: String) { user(identifier: $i) { id } }', { i: identifier })).body.data.user).toBeNull();
  });

  it('refuses a password built from profile values', async () => {
    const res = await server.gql(SIGNUP_WITH_PROFILES, {
      identifier: uniqueIdentifier(),
      password: 'Wilhelmina Featherstonehaugh',
      profiles: { account: { firstName: 'Wilhelmina', lastName: 'Featherstonehaugh' } },
    });
    expect(res.body.errors[0].extensions.fields).toHaveProperty(['input.password']);
  });

  it('is all-or-nothing: a failing profile insert leaves no user and no profile rows', async () => {
    const identifier = uniqueIdentifier('atomic');
    const profiles = server.app.services.profileWriter;
    const original = profiles.createForSignup.bind(profiles);
    const spy = vi.spyOn(profiles, 'createForSignup').mockImplementation(async (tx, userId, input, now) => {
      await original(tx, userId, input, now);
      // A second row for the same user: the primary key refuses it inside the transaction.
      await tx.execute('insert into profile_social (user_id) values (?)', [userId]);
    });
    try {
      const res = await server.gql(SIGNUP_WITH_PROFILES, { identifier, password: GOOD_PASSWORD, profiles: { mail: { email: email() } } });
      expect(res.body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
      expect(res.text).not.toMatch(/profile_social|pkey|duplicate/);
    } finally {
      spy.mockRestore();
    }
    const em = server.db.orm.em.fork();
    expect(await em.execute('select id from users where identifier = ?', [identifier])).toEqual([]);
    const orphans = await em.execute(
      `select user_id from profile_mail where user_id not in (select id from users)
       union all select user_id from profile_account where user_id not in (select id from users)
       union all select user_id from profile_social where user_id not in (select id from users)`,
    );
    expect(orphans).toEqual([]);
  });
});

describe('the data bag', () => {
  it('resolves an overlapping key by precedence, lists every value with dataAll, and knows qualified keys', async () => {
    const mailAddress = email();
    const accountAddress = email();
    const user = await signupWith({ mail: { email: mailAddress }, account: { email: accountAddress, firstName: 'Grace' } });
    const res = await server.gql(
      `query($id: ID) { user(id: $id) {
        email: data(key: "email") accountEmail: data(key: "account.email") first: data(key: "firstName")
        all: dataAll(key: "email") { profile key value }
      } }`,
      { id: user.id },
      user.token,
    );
    expect(res.body.data.user).toEqual({
      email: mailAddress,
      accountEmail: accountAddress,
      first: 'Grace',
      all: [
        { profile: 'mail', key: 'mail.email', value: mailAddress },
        { profile: 'account', key: 'account.email', value: accountAddress },
      ],
    });
  });

  it('answers unknown keys with PROFILE_KEY_UNKNOWN', async () => {
    const user = await signupUser(server);
    const res = await server.gql(`query($id: ID) { user(id: $id) { a: data(key: "nope") } }`, { id: user.id });
    expect(res.body.errors[0].extensions.code).toBe('PROFILE_KEY_UNKNOWN');
    const qualified = await server.gql(`query($id: ID) { user(id: $id) { a: data(key: "mail.nope") } }`, { id: user.id });
    expect(qualified.body.errors[0].extensions.code).toBe('PROFILE_KEY_UNKNOWN');
  });

  it('refuses to write or filter by an overlapping unqualified key, naming the qualified keys', async () => {
    const user = await signupUser(server);
    const write = await server.gql(`mutation { setData(key: "email", value: "x@example.com") { id } }`, {}, user.token);
    expect(write.body.errors[0].extensions).toMatchObject({ code: 'PROFILE_KEY_AMBIGUOUS', qualifiedKeys: ['mail.email', 'account.email'] });
    const filter = await server.gql(`{ users(where: { data: [{ key: "email", eq: "x@example.com" }] }) { totalCount } }`);
    expect(filter.body.errors[0].extensions.code).toBe('PROFILE_KEY_AMBIGUOUS');
    const order = await server.gql(`{ users(orderBy: [{ field: "email" }]) { totalCount } }`);
    expect(order.body.errors[0].extensions.code).toBe('PROFILE_KEY_AMBIGUOUS');
  });

  it('writes through setData with a qualified or unique key, and keeps concurrent writes of different keys', async () => {
    const user = await signupUser(server);
    const values: [string, unknown][] = [
      ['firstName', 'Katherine'],
      ['lastName', 'Johnson'],
      ['bio', 'Computed trajectories.'],
      ['mail.email', email()],
      ['account.email', email()],
      ['followRequiresConfirmation', true],
    ];
    const results = await Promise.all(
      [...values, ...values].map(([key, value]) =>
        server.gql(`mutation($k: String!, $v: JSON) { setData(key: $k, value: $v) { id } }`, { k: key, v: value }, user.token),
      ),
    );
    for (const r of results) expect(r.body.errors).toBeUndefined();
    const read = await server.gql(`{ me { ${values.map(([k], i) => `v${i}: data(key: "${k}")`).join(' ')} } }`, {}, user.token);
    expect(Object.values(read.body.data.me)).toEqual(values.map(([, v]) => v));
  });

  it('validates setData values against the field and refuses readonly fields to their owner', async () => {
    const user = await signupUser(server);
    const bad = await server.gql(`mutation { setData(key: "mail.email", value: "nope") { id } }`, {}, user.token);
    expect(bad.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { value: expect.any(String) } });
    const readonly = await server.gql(`mutation { setData(key: "isStaff", value: true) { id } }`, {}, user.token);
    expect(readonly.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', fields: { key: expect.any(String) } });
    const anonymous = await server.gql(`mutation { setData(key: "bio", value: "hi") { id } }`);
    expect(anonymous.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('private fields', () => {
  it('are visible to the owner and staff and null for others, on the profile and through data', async () => {
    const address = email();
    const owner = await signupWith({ mail: { email: address } });
    const stranger = await signupUser(server);
    const staff = await signupUser(server);
    await makeStaff(staff.id);
    const query = `query($id: ID) { user(id: $id) { mail { email } data(key: "email") all: dataAll(key: "email") { profile value } } }`;
    const as = async (token?: string) => (await server.gql(query, { id: owner.id }, token)).body.data.user;

    expect(await as(owner.token)).toMatchObject({ mail: { email: address }, data: address });
    expect(await as(staff.token)).toMatchObject({ mail: { email: address }, data: address });
    const hidden = {
      mail: { email: null },
      data: null,
      all: [
        { profile: 'mail', value: null },
        { profile: 'account', value: null },
      ],
    };
    expect(await as(stranger.token)).toEqual(hidden);
    expect(await as(undefined)).toEqual(hidden);
  });
});

describe('updateProfiles', () => {
  const UPDATE = `mutation($input: ProfilesInput!, $userId: ID) { updateProfiles(input: $input, userId: $userId) {
    id account { firstName isStaff } social { bio } } }`;

  it('lets the owner change their profiles in one transaction', async () => {
    const user = await signupUser(server);
    const res = await server.gql(UPDATE, { input: { account: { firstName: 'Mary' }, social: { bio: 'Hello' } } }, user.token);
    expect(res.body.data.updateProfiles).toEqual({ id: user.id, account: { firstName: 'Mary', isStaff: false }, social: { bio: 'Hello' } });
  });

  it('rolls every profile back when one value is refused by the database', async () => {
    const taken = email();
    await signupWith({ mail: { email: taken } });
    const user = await signupUser(server);
    const res = await server.gql(UPDATE, { input: { social: { bio: 'should not stay' }, mail: { email: taken } } }, user.token);
    expect(res.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', fields: { 'input.mail.email': expect.any(String) } });
    expect(res.text).not.toMatch(/unique|constraint|profile_mail/i);
    const me = await server.gql('{ me { social { bio } } }', {}, user.token);
    expect(me.body.data.me.social.bio).toBeNull();
  });

  it('keeps readonly fields and other users to staff', async () => {
    const user = await signupUser(server);
    const other = await signupUser(server);
    const readonly = await server.gql(UPDATE, { input: { account: { isStaff: true } } }, user.token);
    // The same code as setData on a readonly key (it was BAD_USER_INPUT here before).
    expect(readonly.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', fields: { 'input.account.isStaff': expect.any(String) } });
    const readonlyAndInvalid = await server.gql(UPDATE, { input: { account: { isStaff: true, firstName: 'x'.repeat(151) } } }, user.token);
    expect(readonlyAndInvalid.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(Object.keys(readonlyAndInvalid.body.errors[0].extensions.fields)).toEqual(['input.account.isStaff']);
    const forbidden = await server.gql(UPDATE, { input: { social: { bio: 'x' } }, userId: other.id }, user.token);
    expect(forbidden.body.errors[0].extensions.code).toBe('FORBIDDEN');

    const staff = await signupUser(server);
    await makeStaff(staff.id);
    // Flags behind permissions need auth.change_user, which a superuser holds.
    const plainStaffPromotes = await server.gql(UPDATE, { input: { account: { isStaff: true } }, userId: other.id }, staff.token);
    expect(plainStaffPromotes.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'auth.change_user' });
    await server.db.orm.em.fork().execute('update profile_account set is_superuser = true where user_id = ?', [staff.id]);
    const promoted = await server.gql(UPDATE, { input: { account: { isStaff: true } }, userId: other.id }, staff.token);
    expect(promoted.body.data.updateProfiles).toMatchObject({ id: other.id, account: { isStaff: true } });
    const missing = await server.gql(UPDATE, { input: { social: { bio: 'x' } }, userId: '999999999999' }, staff.token);
    expect(missing.body.errors[0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('login and the bag', () => {
  it('stamps account.dateJoined at signup and account.lastLogin at each login', async () => {
    const user = await signupUser(server);
    const before = await server.gql('{ me { account { dateJoined lastLogin } } }', {}, user.token);
    expect(before.body.data.me.account.dateJoined).toEqual(expect.any(String));
    expect(before.body.data.me.account.lastLogin).toBeNull();
    const login = await server.gql(LOGIN, { identifier: user.identifier, password: user.password });
    const after = await server.gql('{ me { account { lastLogin } } }', {}, login.body.data.login.token);
    expect(Date.parse(after.body.data.me.account.lastLogin)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('refuses an inactive account with the same INVALID_CREDENTIALS', async () => {
    const user = await signupUser(server);
    await server.db.orm.em.fork().execute('update profile_account set is_active = false where user_id = ?', [user.id]);
    const res = await server.gql(LOGIN, { identifier: user.identifier, password: user.password });
    expect(res.body.errors[0]).toMatchObject({ message: 'Invalid identifier or password.', extensions: { code: 'INVALID_CREDENTIALS' } });
  });
});

describe('the users connection', () => {
  it('filters and sorts by profile fields and bag keys, pages with cursors, and counts', async () => {
    const prefix = uniqueIdentifier('conn');
    const names = ['delta', 'alpha', 'charlie', 'bravo', 'echo'];
    const ids: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      const u = await signupWith({ account: { firstName: name }, social: { bio: i % 2 ? 'odd' : null } }, `${prefix}-${i}`);
      ids[name] = u.id;
    }
    const list = async (args: string) => {
      const res = await server.gql(
        `{ users(${args}) { totalCount edges { cursor node { id account { firstName } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
      );
      if (res.body.errors) throw new Error(res.text);
      return res.body.data.users;
    };
    const mine = `identifier: { startsWith: "${prefix}" }`;
    const sorted = await list(`where: { ${mine} }, orderBy: [{ field: "account.firstName", direction: DESC }]`);
    expect(sorted.totalCount).toBe(5);
    expect(sorted.edges.map((e: any) => e.node.account.firstName)).toEqual(['echo', 'delta', 'charlie', 'bravo', 'alpha']);

    const byBag = await list(`where: { ${mine}, data: [{ key: "bio", eq: "odd" }] }, orderBy: [{ field: "firstName" }]`);
    expect(byBag.edges.map((e: any) => e.node.account.firstName)).toEqual(['alpha', 'bravo']);

    const byProfile = await list(`where: { ${mine}, account: { firstName: { in: ["delta", "echo"] } }, social: { bio: { isNull: true } } }`);
    expect(byProfile.edges.map((e: any) => e.node.id).sort()).toEqual([ids.delta, ids.echo].sort());

    const either = await list(`where: { ${mine}, OR: [{ account: { firstName: { contains: "LT" } } }, { account: { firstName: { startsWith: "CH" } } }] }`);
    expect(either.edges.map((e: any) => e.node.account.firstName).sort()).toEqual(['charlie', 'delta']);

    const page1 = await list(`first: 2, where: { ${mine} }, orderBy: [{ field: "identifier" }]`);
    expect(page1.edges.map((e: any) => e.node.id)).toEqual([ids.delta, ids.alpha]);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = await list(`first: 2, after: "${page1.pageInfo.endCursor}", where: { ${mine} }, orderBy: [{ field: "identifier" }]`);
    expect(page2.edges.map((e: any) => e.node.id)).toEqual([ids.charlie, ids.bravo]);
    const page3 = await list(`first: 2, after: "${page2.pageInfo.endCursor}", where: { ${mine} }, orderBy: [{ field: "identifier" }]`);
    expect(page3.edges.map((e: any) => e.node.id)).toEqual([ids.echo]);
    expect(page3.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('matches the identifier case-insensitively with eq and refuses bad input clearly', async () => {
    const user = await signupUser(server, uniqueIdentifier('CaseTest'));
    const res = await server.gql(`query($i: String) { users(where: { identifier: { eq: $i } }) { edges { node { id } } } }`, {
      i: user.identifier.toUpperCase(),
    });
    expect(res.body.data.users.edges).toEqual([{ node: { id: user.id } }]);
    const badCursor = await server.gql(`{ users(after: "garbage") { totalCount } }`);
    expect(badCursor.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.any(String) } });
    const badValue = await server.gql(`{ users(where: { data: [{ key: "followRequiresConfirmation", eq: "yes" }] }) { totalCount } }`);
    expect(badValue.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('caps the page size', async () => {
    const capped = await startTestServer({ USERS_PAGE_MAX: '3' });
    try {
      for (let i = 0; i < 4; i++) await signupUser(capped);
      const res = await capped.gql(`{ users(first: 50) { edges { node { id } } pageInfo { hasNextPage } } }`);
      expect(res.body.data.users.edges).toHaveLength(3);
      expect(res.body.data.users.pageInfo.hasNextPage).toBe(true);
    } finally {
      await capped.close();
    }
  });
});

describe('SQL statements per request', () => {
  it('does not grow with the page: 10 and 100 users with three profiles and data(key) cost the same', async () => {
    const prefix = uniqueIdentifier('stmt');
    const em = server.db.orm.em.fork();
    // 100 users inserted directly (signup would hash 100 passwords); their profile rows do not
    // exist yet, so the first read creates them lazily.
    await em.execute(
      `insert into users (identifier, identifier_key, password)
       select ? || '-' || lpad(g::text, 3, '0'), ? || '-' || lpad(g::text, 3, '0'), '!' from generate_series(1, 100) g`,
      [prefix, prefix.toLowerCase()],
    );
    const query = (first: number) => `{ users(first: ${first}, where: { identifier: { startsWith: "${prefix}" } }, orderBy: [{ field: "identifier" }]) {
      totalCount edges { node { id identifier account { firstName isActive } mail { emailConfirmedAt } social { bio } email: data(key: "email") } }
    } }`;
    await server.gql(query(100)); // creates the missing rows

    const count = async (first: number) => {
      server.resetQueries();
      const res = await server.gql(query(first));
      expect(res.body.data.users.edges).toHaveLength(first);
      return server.queries.length;
    };
    const ten = await count(10);
    const hundred = await count(100);
    expect(ten).toBe(hundred);
    expect(hundred).toBeLessThanOrEqual(1 + 3 + 1);
    // With look-ahead the selected profiles come in the page statement itself: page + count.
    expect(hundred).toBe(2);
  });

  it('reads one user with its selected profiles in one statement, and still creates missing rows lazily', async () => {
    const user = await signupWith({ account: { firstName: 'Joan' }, social: { bio: 'Cryptanalyst' } });
    server.resetQueries();
    const res = await server.gql(`query($id: ID) { user(id: $id) { account { firstName } social { bio } email: data(key: "email") } }`, { id: user.id });
    expect(res.body.data.user).toMatchObject({ account: { firstName: 'Joan' }, social: { bio: 'Cryptanalyst' } });
    expect(server.queries).toHaveLength(1);

    const [row] = await server.db.orm.em
      .fork()
      .execute<{ id: string }[]>(`insert into users (identifier, identifier_key, password) values (?, ?, '!') returning id`, [
        uniqueIdentifier('bare'),
        uniqueIdentifier('bare'),
      ]);
    server.resetQueries();
    const bare = await server.gql(`query($id: ID) { user(id: $id) { social { followRequiresConfirmation } } }`, { id: String(row!.id) });
    expect(bare.body.data.user.social).toEqual({ followRequiresConfirmation: false });
    expect(server.queries.filter((q) => /insert into "profile_social"/.test(q))).toHaveLength(1);
  });
});

describe('the profiles query', () => {
  it('lists installed profiles in precedence order with their fields and the overlapping keys', async () => {
    const res = await server.gql(`{ profiles {
      installed { name typeName order precedence autoCreate fields { name key type default private readonly unique } }
      overlaps { key qualifiedKeys resolvedBy }
    } }`);
    const { installed, overlaps } = res.body.data.profiles;
    expect(installed.map((p: any) => [p.name, p.order, p.precedence])).toEqual([
      ['mail', 1, 10],
      ['account', 2, 20],
      ['social', 3, 30],
    ]);
    expect(installed[1].fields.find((f: any) => f.name === 'isActive')).toEqual({
      name: 'isActive',
      key: 'account.isActive',
      type: 'Boolean!',
      default: true,
      private: false,
      readonly: true,
      unique: false,
    });
    expect(overlaps).toEqual([{ key: 'email', qualifiedKeys: ['mail.email', 'account.email'], resolvedBy: 'mail' }]);
  });
});
