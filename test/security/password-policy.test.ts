import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureTransport } from '../../src/modules/mail/mailer.ts';
import { GOOD_PASSWORD, startTestServer, uniqueIdentifier, type TestServer } from '../helpers/server.ts';

let server: TestServer;
const mail = new CaptureTransport();
beforeAll(async () => {
  server = await startTestServer({}, { mailTransport: mail });
});
afterAll(async () => {
  await server?.close();
});

const SIGNUP = `mutation($identifier: String!, $password: String!, $email: EmailAddress) {
  signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) { token }
}`;
const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';

describe('password policy (finding 9)', () => {
  it.each(['password1234567', '1234567890123456', 'profilegraph2024!', 'fourteen chars'])(
    'refuses %j at signup with BAD_USER_INPUT on input.password',
    async (password) => {
      const res = await server.gql(SIGNUP, { identifier: uniqueIdentifier(), password, email: `${uniqueIdentifier('pw')}@example.com` });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'input.password': expect.any(String) } });
    },
  );

  it('mails a notice to the account address after a password change, and refuses a guessable new password', async () => {
    const email = `${uniqueIdentifier('notice')}@example.com`;
    const signup = await server.gql(SIGNUP, { identifier: uniqueIdentifier(), password: GOOD_PASSWORD, email });
    const token = signup.body.data.signup.token as string;
    const weak = await server.gql(CHANGE, { c: GOOD_PASSWORD, n: '1234567890123456' }, token);
    expect(weak.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { newPassword: expect.any(String) } });
    expect((await server.gql(CHANGE, { c: GOOD_PASSWORD, n: 'lantern orbit tangerine 93' }, token)).body.data.changePassword).toBe(true);
    const notice = await mail.waitFor((m) => m.to === email && m.template === 'passwordChanged');
    expect(notice.subject).toBe('Your password was changed');
  });
});
