import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.ts';
import { GOOD_PASSWORD, startTestServer, uniqueIdentifier, type TestServer } from '../helpers/server.ts';

const clock = new ManualClock();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ EMAIL_CONFIRMATION: 'none' }, { clock });
});
afterAll(async () => {
  await server?.close();
});

const SIGNUP = `mutation($identifier: String!, $password: String!, $email: EmailAddress) {
  signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) { token }
}`;
const UPDATE = `mutation($email: EmailAddress, $pw: String) {
  updateProfiles(input: { mail: { email: $email } }, currentPassword: $pw) { mail { email } }
}`;
const SET = `mutation($v: JSON, $pw: String) { setData(key: "mail.email", value: $v, currentPassword: $pw) { mail { email } } }`;
const address = () => `${uniqueIdentifier('reset')}@example.com`;

async function agedSession() {
  const email = address();
  const res = await server.gql(SIGNUP, { identifier: uniqueIdentifier(), password: GOOD_PASSWORD, email });
  clock.advance(6 * 60_000);
  return { token: res.body.data.signup.token as string, email };
}

describe('changing the address password resets go to (finding 9)', () => {
  it('needs the current password once the login is older than 5 minutes, through updateProfiles and setData', async () => {
    const { token, email } = await agedSession();
    const next = address();
    for (const [query, vars] of [
      [UPDATE, { email: next }],
      [SET, { v: next }],
    ] as const) {
      const refused = await server.gql(query, vars, token);
      expect(refused.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'CURRENT_PASSWORD_REQUIRED' });
      const wrong = await server.gql(query, { ...vars, pw: 'not the password at all' }, token);
      expect(wrong.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    }
    const me = await server.gql('{ me { mail { email } } }', {}, token);
    expect(me.body.data.me.mail.email).toBe(email);
    const changed = await server.gql(UPDATE, { email: next, pw: GOOD_PASSWORD }, token);
    expect(changed.body.data.updateProfiles.mail.email).toBe(next);
  });

  it('lets a fresh login change it, and asks nothing for other fields or an unchanged address', async () => {
    const fresh = await server.gql(SIGNUP, { identifier: uniqueIdentifier(), password: GOOD_PASSWORD, email: address() });
    const next = address();
    const changed = await server.gql(UPDATE, { email: next }, fresh.body.data.signup.token);
    expect(changed.body.data.updateProfiles.mail.email).toBe(next);

    const { token, email } = await agedSession();
    const bio = await server.gql('mutation { updateProfiles(input: { social: { bio: "hello" } }) { social { bio } } }', {}, token);
    expect(bio.body.data.updateProfiles.social.bio).toBe('hello');
    const same = await server.gql(UPDATE, { email }, token);
    expect(same.body.data.updateProfiles.mail.email).toBe(email);
  });
});
