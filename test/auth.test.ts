import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, LOGIN, ME, SIGNUP, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const CHANGE_PASSWORD = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;

describe('accounts and sessions over HTTP', () => {
  it('signs up, logs in, reads me with the token, logs out, and then me is null', async () => {
    const identifier = uniqueIdentifier('Flow');
    const signup = await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD });
    expect(signup.status).toBe(200);
    expect(signup.body.data.signup.user.identifier).toBe(identifier);
    expect(signup.body.data.signup.token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const login = await server.gql(LOGIN, { identifier: identifier.toUpperCase(), password: GOOD_PASSWORD });
    const token = login.body.data.login.token as string;
    expect(new Date(login.body.data.login.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const me = await server.gql(ME, {}, token);
    expect(me.body.data.me).toEqual({ id: signup.body.data.signup.user.id, identifier, hasUsablePassword: true });

    const logout = await server.gql('mutation { logout }', {}, token);
    expect(logout.body.data.logout).toBe(true);
    expect((await server.gql(ME, {}, token)).body.data.me).toBeNull();
  });

  it('keeps a second session alive through logout but not through another session changing the password', async () => {
    const user = await signupUser(server);
    const second = (await server.gql(LOGIN, { identifier: user.identifier, password: user.password })).body.data.login.token;
    const third = (await server.gql(LOGIN, { identifier: user.identifier, password: user.password })).body.data.login.token;

    await server.gql('mutation { logout }', {}, user.token);
    expect((await server.gql(ME, {}, user.token)).body.data.me).toBeNull();
    expect((await server.gql(ME, {}, second)).body.data.me.identifier).toBe(user.identifier);

    const newPassword = 'a completely different passphrase 7';
    const change = await server.gql(CHANGE_PASSWORD, { c: user.password, n: newPassword }, third);
    expect(change.body).toEqual({ data: { changePassword: true } });
    expect((await server.gql(ME, {}, second)).body.data.me).toBeNull();
    expect((await server.gql(ME, {}, third)).body.data.me.identifier).toBe(user.identifier);

    const oldLogin = await server.gql(LOGIN, { identifier: user.identifier, password: user.password });
    expect(oldLogin.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const newLogin = await server.gql(LOGIN, { identifier: user.identifier, password: newPassword });
    expect(newLogin.body.data.login.user.id).toBe(user.id);
  });

  it('ends every session with logoutAll', async () => {
    const user = await signupUser(server);
    const other = (await server.gql(LOGIN, { identifier: user.identifier, password: user.password })).body.data.login.token;
    expect((await server.gql('mutation { logoutAll }', {}, user.token)).body.data.logoutAll).toBe(true);
    expect((await server.gql(ME, {}, user.token)).body.data.me).toBeNull();
    expect((await server.gql(ME, {}, other)).body.data.me).toBeNull();
  });

  it('refuses changePassword with a wrong current password or a weak new one', async () => {
    const user = await signupUser(server);
    const wrong = await server.gql(CHANGE_PASSWORD, { c: 'not my password at all', n: 'another fine passphrase 8' }, user.token);
    expect(wrong.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const weak = await server.gql(CHANGE_PASSWORD, { c: user.password, n: 'short' }, user.token);
    expect(weak.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { newPassword: expect.any(String) } });
    expect((await server.gql(LOGIN, { identifier: user.identifier, password: user.password })).body.data.login).toBeTruthy();
  });

  it('requires a session for logout and changePassword', async () => {
    expect((await server.gql('mutation { logout }')).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const res = await server.gql(CHANGE_PASSWORD, { c: GOOD_PASSWORD, n: GOOD_PASSWORD });
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('treats an unknown or malformed bearer token as no session', async () => {
    expect((await server.gql(ME, {}, 'x'.repeat(43))).body.data.me).toBeNull();
    const res = await server.gql(ME, {}, undefined, { authorization: 'Basic abc' });
    expect(res.body.data.me).toBeNull();
  });

  it('finds users by id or by identifier in any case, and refuses both or neither', async () => {
    const user = await signupUser(server, uniqueIdentifier('Finder'));
    const byId = await server.gql('query($id: ID) { user(id: $id) { identifier } }', { id: user.id });
    expect(byId.body.data.user.identifier).toBe(user.identifier);
    const byIdentifier = await server.gql('query($i: String) { user(identifier: $i) { id } }', { i: user.identifier.toLowerCase() });
    expect(byIdentifier.body.data.user.id).toBe(user.id);
    expect((await server.gql('{ user(id: "999999999999") { id } }')).body.data.user).toBeNull();
    expect((await server.gql('{ user(id: "abc") { id } }')).body.data.user).toBeNull();
    const both = await server.gql('{ user { id } }');
    expect(both.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('signup validation', () => {
  const cases: [string, string, string, string][] = [
    ['a short password', uniqueIdentifier(), 'short pass', 'input.password'],
    ['a common password', uniqueIdentifier(), 'passwordpassword', 'input.password'],
    ['a password close to the identifier', 'margaret.hamilton.x1', 'margaret.hamilton.x2', 'input.password'],
    ['a password longer than 128 characters', uniqueIdentifier(), 'x'.repeat(129), 'input.password'],
    ['an empty identifier', '   ', GOOD_PASSWORD, 'input.identifier'],
    ['an identifier with surrounding spaces', ' padded ', GOOD_PASSWORD, 'input.identifier'],
    ['an identifier with control characters', 'bell\u0007user', GOOD_PASSWORD, 'input.identifier'],
    ['an identifier over the maximum length', 'x'.repeat(151), GOOD_PASSWORD, 'input.identifier'],
  ];
  it.each(cases)('refuses %s with BAD_USER_INPUT naming the field', async (_name, identifier, password, field) => {
    const res = await server.gql(SIGNUP, { identifier, password });
    expect(res.status).toBe(200);
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(Object.keys(res.body.errors[0].extensions.fields)).toContain(field);
  });

  it('refuses an identifier already taken in another case or normalisation', async () => {
    const identifier = uniqueIdentifier('Straße');
    await signupUser(server, identifier);
    const res = await server.gql(SIGNUP, { identifier: identifier.toUpperCase(), password: GOOD_PASSWORD });
    expect(res.body.errors[0].extensions.code).toBe('IDENTIFIER_TAKEN');
  });
});

describe("the payload's user is the new session's owner", () => {
  const SIGNUP_WITH_MAIL = `mutation($identifier: String!, $password: String!, $email: EmailAddress) {
    signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) {
      token user { id mail { email } data(key: "email") }
    }
  }`;
  const LOGIN_WITH_MAIL = `mutation($identifier: String!, $password: String!) {
    login(identifier: $identifier, password: $password) { token user { id mail { email } data(key: "email") } }
  }`;

  it('signup and login answer the private fields of the account they open a session for, and only those', async () => {
    const identifier = uniqueIdentifier('payload');
    const email = `${identifier}@example.com`;
    const signup = await server.gql(SIGNUP_WITH_MAIL, { identifier, password: GOOD_PASSWORD, email });
    expect(signup.body.errors).toBeUndefined();
    expect(signup.body.data.signup.user.mail.email).toBe(email);
    expect(signup.body.data.signup.user.data).toBe(email);

    const login = await server.gql(LOGIN_WITH_MAIL, { identifier, password: GOOD_PASSWORD });
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data.login.user.mail.email).toBe(email);

    // A later request without the token does not read as that owner.
    const id = signup.body.data.signup.user.id as string;
    const anonymous = await server.gql('query($id: ID!) { user(id: $id) { mail { email } data(key: "email") } }', { id });
    expect(anonymous.body.data.user.mail.email).toBeNull();
    expect(anonymous.body.data.user.data).toBeNull();
  });
});
