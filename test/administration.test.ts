import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, LOGIN, ME, signupStaff, signupSuperuser, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

// Staff's administration of accounts (issue 13, "Administration"): createUser with
// auth.add_user, setPassword / setUnusablePassword with auth.change_user (a superuser's, a
// superuser), and Django's hasPerms, groupPermissions and hasModulePerms on User.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ EMAIL_CONFIRMATION: 'none' });
});
afterAll(async () => {
  await server?.close();
});

const OTHER_PASSWORD = 'purple elephant marmalade 7 orbit';

const CREATE = `mutation($input: CreateUserInput!) {
  createUser(input: $input) { id identifier hasUsablePassword account { firstName isStaff isSuperuser } mail { email } }
}`;
const SET_PASSWORD = 'mutation($u: ID!, $p: String!) { setPassword(userId: $u, password: $p) }';
const SET_UNUSABLE = 'mutation($u: ID!) { setUnusablePassword(userId: $u) }';
const PERMS = `query($id: ID, $perms: [String!]!, $app: String!) {
  user(id: $id) { hasPerms(perms: $perms) groupPermissions { key } hasModulePerms(appLabel: $app) }
}`;

type Viewer = Awaited<ReturnType<typeof signupUser>>;

const sqlFlags = (userId: string, set: string) => server.db.orm.em.fork().execute(`update profile_account set ${set} where user_id = ?`, [userId]);

async function superuser(): Promise<Viewer> {
  return signupSuperuser(server);
}

/** A staff member (not a superuser) holding exactly `permissions`, granted by a superuser. */
async function staff(permissions: string[]): Promise<Viewer> {
  return (await signupStaff(server, permissions)).staff;
}

const login = (identifier: string, password: string) => server.gql(LOGIN, { identifier, password });

async function isSignedIn(token: string): Promise<boolean> {
  return (await server.gql(ME, {}, token)).body.data.me !== null;
}

async function eventsOf(type: string, subjectId: string) {
  return server.db.orm.em
    .fork()
    .execute<{ actor_id: string; data: unknown }[]>('select actor_id::text, data from audit_events where type = ? and subject_id = ? order by id', [
      type,
      subjectId,
    ]);
}

describe('createUser', () => {
  it('is FORBIDDEN to staff without auth.add_user, and to everyone signed in who is not staff', async () => {
    const [plainStaff, user] = await Promise.all([staff(['auth.change_user']), signupUser(server)]);
    const identifier = uniqueIdentifier('adm');
    for (const token of [plainStaff.token, user.token]) {
      const res = await server.gql(CREATE, { input: { identifier, password: GOOD_PASSWORD } }, token);
      expect(res.body.errors?.[0].extensions, res.text).toMatchObject({ code: 'FORBIDDEN', permission: 'auth.add_user' });
      expect(res.body.data.createUser).toBeNull();
    }
    const anonymous = await server.gql(CREATE, { input: { identifier, password: GOOD_PASSWORD } });
    expect(anonymous.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await login(identifier, GOOD_PASSWORD)).body.errors?.[0].extensions.code).toBe('INVALID_CREDENTIALS');
  });

  it('creates a user with a password that logs in, issues no session and records user.created', async () => {
    const creator = await staff(['auth.add_user']);
    const identifier = uniqueIdentifier('adm');
    const res = await server.gql(CREATE, { input: { identifier, password: GOOD_PASSWORD } }, creator.token);
    expect(res.body.errors, res.text).toBeUndefined();
    const created = res.body.data.createUser as { id: string; identifier: string; hasUsablePassword: boolean };
    expect(created).toMatchObject({ identifier, hasUsablePassword: true, account: { isStaff: false, isSuperuser: false } });
    const [sessions] = await server.db.orm.em.fork().execute<{ n: number }[]>('select count(*)::int as n from sessions where user_id = ?', [created.id]);
    expect(sessions!.n).toBe(0);
    // The creator is still signed in as themself.
    expect((await server.gql(ME, {}, creator.token)).body.data.me.id).toBe(creator.id);

    const loggedIn = await login(identifier, GOOD_PASSWORD);
    expect(loggedIn.body.data?.login.user.id, loggedIn.text).toBe(created.id);
    expect(await eventsOf('user.created', created.id)).toEqual([{ actor_id: creator.id, data: { identifier } }]);
  });

  it('without a password, creates an account with an unusable one: login is INVALID_CREDENTIALS', async () => {
    const creator = await staff(['auth.add_user']);
    const identifier = uniqueIdentifier('adm');
    const res = await server.gql(CREATE, { input: { identifier } }, creator.token);
    expect(res.body.data?.createUser, res.text).toMatchObject({ identifier, hasUsablePassword: false });
    const [row] = await server.db.orm.em.fork().execute<{ password: string }[]>('select password from users where id = ?', [res.body.data.createUser.id]);
    expect(row!.password).toMatch(/^!/);
    for (const password of [GOOD_PASSWORD, '', row!.password]) {
      expect((await login(identifier, password)).body.errors?.[0].extensions.code).toBe('INVALID_CREDENTIALS');
    }
  });

  it('writes the profiles given, readonly fields included, and the new user shows them', async () => {
    const creator = await staff(['auth.add_user']);
    const identifier = uniqueIdentifier('adm');
    const email = `${identifier}@example.com`;
    const emailConfirmedAt = '2020-01-02T03:04:05.000Z';
    const res = await server.gql(
      CREATE,
      { input: { identifier, password: GOOD_PASSWORD, profiles: { account: { firstName: 'Ada' }, mail: { email, emailConfirmedAt } } } },
      creator.token,
    );
    expect(res.body.data?.createUser, res.text).toMatchObject({ identifier, account: { firstName: 'Ada' }, mail: { email } });
    const read = await server.gql(
      'query($id: ID!) { user(id: $id) { identifier account { firstName } mail { email emailConfirmedAt } } }',
      { id: res.body.data.createUser.id },
      creator.token,
    );
    expect(read.body.data.user).toEqual({ identifier, account: { firstName: 'Ada' }, mail: { email, emailConfirmedAt } });
    // The owner sees them too.
    const own = await server.gql('{ me { account { firstName } mail { email } } }', {}, (await login(identifier, GOOD_PASSWORD)).body.data.login.token);
    expect(own.body.data.me).toEqual({ account: { firstName: 'Ada' }, mail: { email } });
  });

  it('checks the input as signup does: identifier, password policy, profile values, a taken identifier', async () => {
    const creator = await staff(['auth.add_user']);
    const taken = await signupUser(server);
    const invalid = await server.gql(
      CREATE,
      { input: { identifier: ' padded ', password: 'short', profiles: { account: { firstName: 'x'.repeat(151) } } } },
      creator.token,
    );
    expect(invalid.body.errors?.[0].extensions.code, invalid.text).toBe('BAD_USER_INPUT');
    expect(Object.keys(invalid.body.errors[0].extensions.fields as object).sort()).toEqual([
      'input.identifier',
      'input.password',
      'input.profiles.account.firstName',
    ]);
    const duplicate = await server.gql(CREATE, { input: { identifier: taken.identifier.toUpperCase() } }, creator.token);
    expect(duplicate.body.errors?.[0].extensions, duplicate.text).toMatchObject({
      code: 'IDENTIFIER_TAKEN',
      fields: { 'input.identifier': expect.any(String) },
    });
  });

  it('keeps privilege flags to auth.change_user, and isSuperuser to superusers', async () => {
    const adder = await staff(['auth.add_user']);
    const staffFlag = { identifier: uniqueIdentifier('adm'), profiles: { account: { isStaff: true } } };
    const refused = await server.gql(CREATE, { input: staffFlag }, adder.token);
    expect(refused.body.errors?.[0].extensions, refused.text).toMatchObject({ code: 'FORBIDDEN', permission: 'auth.change_user' });

    const changer = await staff(['auth.add_user', 'auth.change_user']);
    // The refused attempt created nothing: the identifier is still free.
    const allowed = await server.gql(CREATE, { input: staffFlag }, changer.token);
    expect(allowed.body.data?.createUser.account, allowed.text).toMatchObject({ isStaff: true, isSuperuser: false });
    const superFlag = { identifier: uniqueIdentifier('adm'), profiles: { account: { isStaff: true, isSuperuser: true } } };
    const notSuper = await server.gql(CREATE, { input: superFlag }, changer.token);
    expect(notSuper.body.errors?.[0].extensions.code, notSuper.text).toBe('FORBIDDEN');
    expect(notSuper.body.errors[0].message).toMatch(/superuser/);

    const admin = await superuser();
    const bySuper = await server.gql(CREATE, { input: superFlag }, admin.token);
    expect(bySuper.body.data?.createUser.account, bySuper.text).toMatchObject({ isStaff: true, isSuperuser: true });
  });
});

describe('setPassword and setUnusablePassword', () => {
  it('are FORBIDDEN to staff without auth.change_user', async () => {
    const [viewer, target] = await Promise.all([staff(['auth.add_user']), signupUser(server)]);
    for (const [query, vars] of [
      [SET_PASSWORD, { u: target.id, p: OTHER_PASSWORD }],
      [SET_UNUSABLE, { u: target.id }],
    ] as const) {
      const res = await server.gql(query, vars, viewer.token);
      expect(res.body.errors?.[0].extensions, res.text).toMatchObject({ code: 'FORBIDDEN', permission: 'auth.change_user' });
    }
    expect(await isSignedIn(target.token)).toBe(true);
    expect((await login(target.identifier, GOOD_PASSWORD)).body.data?.login).toBeTruthy();
  });

  it("setPassword ends every session of the user, the new password logs in and the old one doesn't", async () => {
    const changer = await staff(['auth.change_user']);
    const target = await signupUser(server);
    const second = (await login(target.identifier, GOOD_PASSWORD)).body.data.login.token as string;
    const res = await server.gql(SET_PASSWORD, { u: target.id, p: OTHER_PASSWORD }, changer.token);
    expect(res.body.data?.setPassword, res.text).toBe(true);
    expect(await isSignedIn(target.token)).toBe(false);
    expect(await isSignedIn(second)).toBe(false);
    expect(await isSignedIn(changer.token)).toBe(true);
    expect((await login(target.identifier, GOOD_PASSWORD)).body.errors?.[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const fresh = await login(target.identifier, OTHER_PASSWORD);
    expect(fresh.body.data?.login.user.id, fresh.text).toBe(target.id);
    expect(await eventsOf('auth.password_set', target.id)).toEqual([{ actor_id: changer.id, data: { usable: true } }]);
  });

  it('setPassword checks the password policy and the user, and changes nothing when refused', async () => {
    const changer = await staff(['auth.change_user']);
    const target = await signupUser(server);
    const weak = await server.gql(SET_PASSWORD, { u: target.id, p: target.identifier }, changer.token);
    expect(weak.body.errors?.[0].extensions, weak.text).toMatchObject({ code: 'BAD_USER_INPUT', fields: { password: expect.any(String) } });
    const missing = await server.gql(SET_PASSWORD, { u: '999999999999', p: OTHER_PASSWORD }, changer.token);
    expect(missing.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const malformed = await server.gql(SET_UNUSABLE, { u: 'abc' }, changer.token);
    expect(malformed.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { userId: expect.any(String) } });
    expect(await isSignedIn(target.token)).toBe(true);
    expect((await login(target.identifier, GOOD_PASSWORD)).body.data?.login).toBeTruthy();
  });

  it('setUnusablePassword makes every login fail, ends the sessions and shows hasUsablePassword false', async () => {
    const changer = await staff(['auth.change_user']);
    const target = await signupUser(server);
    const res = await server.gql(SET_UNUSABLE, { u: target.id }, changer.token);
    expect(res.body.data?.setUnusablePassword, res.text).toBe(true);
    expect(await isSignedIn(target.token)).toBe(false);
    expect((await login(target.identifier, GOOD_PASSWORD)).body.errors?.[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const read = await server.gql('query($id: ID!) { user(id: $id) { hasUsablePassword } }', { id: target.id }, changer.token);
    expect(read.body.data.user.hasUsablePassword).toBe(false);
    expect(await eventsOf('auth.password_set', target.id)).toEqual([{ actor_id: changer.id, data: { usable: false } }]);

    // setPassword makes it usable again.
    await server.gql(SET_PASSWORD, { u: target.id, p: OTHER_PASSWORD }, changer.token);
    expect((await login(target.identifier, OTHER_PASSWORD)).body.data?.login.user.id).toBe(target.id);
  });

  it("keeps a superuser's password to superusers", async () => {
    const changer = await staff(['auth.change_user']);
    const target = await superuser();
    for (const [query, vars] of [
      [SET_PASSWORD, { u: target.id, p: OTHER_PASSWORD }],
      [SET_UNUSABLE, { u: target.id }],
    ] as const) {
      const res = await server.gql(query, vars, changer.token);
      expect(res.body.errors?.[0].extensions.code, res.text).toBe('FORBIDDEN');
      expect(res.body.errors[0].message).toMatch(/superuser/);
    }
    expect(await isSignedIn(target.token)).toBe(true);

    const admin = await superuser();
    const allowed = await server.gql(SET_PASSWORD, { u: target.id, p: OTHER_PASSWORD }, admin.token);
    expect(allowed.body.data?.setPassword, allowed.text).toBe(true);
    expect(await isSignedIn(target.token)).toBe(false);
  });
});

describe('hasPerms, groupPermissions and hasModulePerms', () => {
  it('answer as Django does for a superuser, a group member, a direct grant and an inactive user', async () => {
    const admin = await superuser();
    const tag = uniqueIdentifier('m').replace(/-/g, '_');
    const app = `app_${tag}`;
    const [read, write] = [`${app}.read_thing`, `${app}.write_thing`];
    for (const key of [read, write]) {
      const res = await server.gql('mutation($k: String!) { createPermission(key: $k, name: "A permission") { key } }', { k: key }, admin.token);
      expect(res.body.errors, res.text).toBeUndefined();
    }
    const group = await server.gql(
      'mutation($n: String!, $p: [String!]) { createGroup(name: $n, permissions: $p) { id } }',
      { n: `readers ${tag}`, p: [read, write] },
      admin.token,
    );
    const groupId = group.body.data.createGroup.id as string;
    const [member, direct, inactive, plain] = await Promise.all([signupUser(server), signupUser(server), signupUser(server), signupUser(server)]);
    for (const user of [member, inactive]) {
      await server.gql('mutation($u: ID!, $g: [ID!]!) { setUserGroups(userId: $u, groupIds: $g) { id } }', { u: user.id, g: [groupId] }, admin.token);
    }
    await server.gql('mutation($u: ID!, $p: [String!]!) { setUserPermissions(userId: $u, permissions: $p) { id } }', { u: direct.id, p: [read] }, admin.token);
    await sqlFlags(inactive.id, 'is_active = false');

    const check = async (user: Viewer, perms: string[], appLabel = app) => {
      const res = await server.gql(PERMS, { id: user.id, perms, app: appLabel }, admin.token);
      expect(res.body.errors, res.text).toBeUndefined();
      return res.body.data.user as { hasPerms: boolean; groupPermissions: { key: string }[]; hasModulePerms: boolean };
    };
    const superAnswer = await check(admin, [read, write, 'auth.change_user'], 'no_such_app');
    expect(superAnswer).toMatchObject({ hasPerms: true, hasModulePerms: true });
    expect(superAnswer.groupPermissions.map((p) => p.key)).toEqual(expect.arrayContaining([read, write, 'auth.change_user']));

    expect(await check(member, [read, write])).toEqual({ hasPerms: true, groupPermissions: [{ key: read }, { key: write }], hasModulePerms: true });
    expect(await check(direct, [read])).toEqual({ hasPerms: true, groupPermissions: [], hasModulePerms: true });
    expect(await check(direct, [read, write])).toMatchObject({ hasPerms: false });
    expect(await check(inactive, [read])).toEqual({ hasPerms: false, groupPermissions: [], hasModulePerms: false });
    expect(await check(plain, [read])).toEqual({ hasPerms: false, groupPermissions: [], hasModulePerms: false });
    expect(await check(member, [read], 'auth')).toMatchObject({ hasModulePerms: false });
    // Django's has_perms is all(): an empty list holds.
    expect(await check(plain, [])).toMatchObject({ hasPerms: true });
  });

  it('show to the user and staff, and read null for a stranger', async () => {
    const [user, stranger, viewer] = await Promise.all([signupUser(server), signupUser(server), staff([])]);
    const vars = { id: user.id, perms: ['auth.view_user'], app: 'auth' };
    expect((await server.gql(PERMS, vars, user.token)).body.data.user).toEqual({ hasPerms: false, groupPermissions: [], hasModulePerms: false });
    expect((await server.gql(PERMS, vars, viewer.token)).body.data.user).toEqual({ hasPerms: false, groupPermissions: [], hasModulePerms: false });
    expect((await server.gql(PERMS, vars, stranger.token)).body.data.user).toEqual({ hasPerms: null, groupPermissions: null, hasModulePerms: null });
    expect((await server.gql(PERMS, vars)).body.data.user).toEqual({ hasPerms: null, groupPermissions: null, hasModulePerms: null });
  });

  it('cost the same statements for a page of users however many it holds', async () => {
    const admin = await superuser();
    const tag = uniqueIdentifier('b').replace(/-/g, '_');
    const group = await server.gql(
      'mutation($n: String!) { createGroup(name: $n, permissions: ["auth.view_user"]) { id } }',
      { n: `batch ${tag}` },
      admin.token,
    );
    const users = await Promise.all(Array.from({ length: 6 }, () => signupUser(server)));
    for (const user of users) {
      await server.gql(
        'mutation($u: ID!, $g: [ID!]!) { setUserGroups(userId: $u, groupIds: $g) { id } }',
        { u: user.id, g: [group.body.data.createGroup.id] },
        admin.token,
      );
    }
    const QUERY = `query($ids: [ID!]!) { _usersByIds(ids: $ids) { hasPerms(perms: ["auth.view_user"]) groupPermissions { key } hasModulePerms(appLabel: "auth") } }`;
    const statements = async (ids: string[]) => {
      server.resetQueries();
      const res = await server.gql(QUERY, { ids }, admin.token);
      expect(res.body.errors, res.text).toBeUndefined();
      for (const answer of res.body.data._usersByIds) {
        expect(answer).toEqual({ hasPerms: true, groupPermissions: [{ key: 'auth.view_user' }], hasModulePerms: true });
      }
      return server.queries.length;
    };
    const few = await statements(users.slice(0, 2).map((u) => u.id));
    expect(await statements(users.map((u) => u.id))).toBe(few);
  });
});
