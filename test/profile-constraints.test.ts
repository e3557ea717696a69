import { afterAll, beforeAll, expect, it } from 'vitest';
import { GOOD_PASSWORD, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const SIGNUP = `mutation($identifier: String!, $password: String!, $profiles: ProfilesInput) {
  signup(input: { identifier: $identifier, password: $password, profiles: $profiles }) { user { id } }
}`;

it('names the profile field a unique constraint refused, found by the constraint name, and nothing of the constraint', async () => {
  const address = `${uniqueIdentifier('taken')}@example.com`;
  const first = await server.gql(SIGNUP, { identifier: uniqueIdentifier(), password: GOOD_PASSWORD, profiles: { mail: { email: address } } });
  expect(first.body.data.signup.user.id).toBeTruthy();
  const second = await server.gql(SIGNUP, { identifier: uniqueIdentifier(), password: GOOD_PASSWORD, profiles: { mail: { email: address } } });
  expect(second.body.errors[0].extensions).toEqual({
    code: 'BAD_USER_INPUT',
    fields: { 'input.profiles.mail.email': 'This value is already used by another user.' },
  });
  expect(second.text).not.toMatch(/profile_mail_email_unique|constraint|duplicate/i);
});
