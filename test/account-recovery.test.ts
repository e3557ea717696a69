import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from './helpers/clock.ts';
import { CaptureTransport, type OutgoingMail } from '../src/modules/mail/mailer.ts';
import { GOOD_PASSWORD, LOGIN, ME, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

const SIGNUP = `mutation($identifier: String!, $password: String!, $email: EmailAddress) {
  signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) { token user { id } }
}`;
const CONFIRM = 'mutation($t: String!) { confirmEmail(token: $t) }';
const REQUEST_RESET = 'mutation($i: String!) { requestPasswordReset(identifier: $i) }';
const RESET = 'mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }';

function tokenOf(mail: OutgoingMail): string {
  const match = /token=([A-Za-z0-9_-]{43})/.exec(mail.text);
  if (!match) throw new Error(`no token in ${mail.text}`);
  return match[1]!;
}

function harness(mode: 'optional' | 'required') {
  const ctx = { server: undefined as unknown as TestServer, mail: new CaptureTransport(), clock: new ManualClock() };
  beforeAll(async () => {
    ctx.server = await startTestServer({ EMAIL_CONFIRMATION: mode }, { mailTransport: ctx.mail, clock: ctx.clock });
  });
  afterAll(async () => {
    await ctx.server?.close();
  });
  return ctx;
}

/** Waits for background work (token issue, mail) started by the last requests. */
async function settle(server: TestServer) {
  await server.app.services.background.drain();
  await server.app.services.mailer.drain();
}

async function signupWithEmail(server: TestServer, email = `${uniqueIdentifier('addr')}@example.com`) {
  const identifier = uniqueIdentifier();
  const res = await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD, email });
  if (!res.body.data?.signup) throw new Error(res.text);
  return { identifier, email, token: res.body.data.signup.token as string, id: res.body.data.signup.user.id as string };
}

describe('email confirmation (optional)', () => {
  const t = harness('optional');

  it('mails a token on signup that confirms the address once', async () => {
    const user = await signupWithEmail(t.server);
    const mail = await t.mail.waitFor((m) => m.to === user.email && m.template === 'confirmEmail');
    expect(mail.html).toContain(tokenOf(mail));
    const before = await t.server.gql('{ me { mail { emailConfirmedAt } } }', {}, user.token);
    expect(before.body.data.me.mail.emailConfirmedAt).toBeNull();

    expect((await t.server.gql(CONFIRM, { t: tokenOf(mail) })).body.data.confirmEmail).toBe(true);
    const after = await t.server.gql('{ me { mail { email emailConfirmedAt } } }', {}, user.token);
    expect(after.body.data.me.mail.email).toBe(user.email);
    expect(Date.parse(after.body.data.me.mail.emailConfirmedAt)).not.toBeNaN();
    expect((await t.server.gql(CONFIRM, { t: tokenOf(mail) })).body.errors[0].extensions.code).toBe('INVALID_TOKEN');
  });

  it('holds an email change until the new address is confirmed, then tells the old address', async () => {
    const user = await signupWithEmail(t.server);
    await t.server.gql(CONFIRM, { t: tokenOf(await t.mail.waitFor((m) => m.to === user.email)) });
    const next = `${uniqueIdentifier('new')}@example.com`;
    const change = await t.server.gql('mutation($e: JSON) { setData(key: "mail.email", value: $e) { mail { email } } }', { e: next }, user.token);
    expect(change.body.data.setData.mail.email).toBe(user.email);

    const mail = await t.mail.waitFor((m) => m.to === next && m.template === 'confirmEmail');
    expect((await t.server.gql(CONFIRM, { t: tokenOf(mail) })).body.data.confirmEmail).toBe(true);
    const me = await t.server.gql('{ me { email: data(key: "email") mail { emailConfirmedAt } } }', {}, user.token);
    expect(me.body.data.me.email).toBe(next);
    expect(me.body.data.me.mail.emailConfirmedAt).not.toBeNull();
    const notice = await t.mail.waitFor((m) => m.to === user.email && m.template === 'emailChanged');
    expect(notice.text).toContain(next);
  });

  it('resends a confirmation and only the newest token works', async () => {
    const user = await signupWithEmail(t.server);
    const first = await t.mail.waitFor((m) => m.to === user.email);
    expect((await t.server.gql('mutation { resendEmailConfirmation }', {}, user.token)).body.data.resendEmailConfirmation).toBe(true);
    await settle(t.server);
    const mails = t.mail.messages.filter((m) => m.to === user.email);
    expect(mails).toHaveLength(2);
    expect((await t.server.gql(CONFIRM, { t: tokenOf(first) })).body.errors[0].extensions.code).toBe('INVALID_TOKEN');
    expect((await t.server.gql(CONFIRM, { t: tokenOf(mails[1]!) })).body.data.confirmEmail).toBe(true);
  });
});

describe('email confirmation (required)', () => {
  const t = harness('required');

  it('refuses login before confirmation with a clear code, and allows it after', async () => {
    const user = await signupWithEmail(t.server);
    const refused = await t.server.gql(LOGIN, { identifier: user.identifier, password: GOOD_PASSWORD });
    expect(refused.body.errors[0].extensions).toEqual({ code: 'FORBIDDEN', reason: 'EMAIL_NOT_CONFIRMED' });
    const mail = await t.mail.waitFor((m) => m.to === user.email);
    await t.server.gql(CONFIRM, { t: tokenOf(mail) });
    expect((await t.server.gql(LOGIN, { identifier: user.identifier, password: GOOD_PASSWORD })).body.data.login.token).toEqual(expect.any(String));
  });
});

describe('password reset', () => {
  const t = harness('optional');

  async function requestReset(user: { identifier: string; email: string }) {
    await settle(t.server);
    t.mail.clear();
    const res = await t.server.gql(REQUEST_RESET, { i: user.identifier });
    expect(res.body.data.requestPasswordReset).toBe(true);
    return tokenOf(await t.mail.waitFor((m) => m.to === user.email && m.template === 'passwordReset'));
  }

  it('works end to end through the mailed token: old password and sessions stop working, the token works once', async () => {
    const user = await signupWithEmail(t.server);
    const other = (await t.server.gql(LOGIN, { identifier: user.identifier, password: GOOD_PASSWORD })).body.data.login.token;
    const token = await requestReset(user);
    const newPassword = 'an entirely fresh passphrase 9';
    expect((await t.server.gql(RESET, { t: token, p: newPassword })).body).toEqual({ data: { resetPassword: true } });

    expect((await t.server.gql(ME, {}, user.token)).body.data.me).toBeNull();
    expect((await t.server.gql(ME, {}, other)).body.data.me).toBeNull();
    expect((await t.server.gql(LOGIN, { identifier: user.identifier, password: GOOD_PASSWORD })).body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    expect((await t.server.gql(LOGIN, { identifier: user.identifier, password: newPassword })).body.data.login.user.id).toBe(user.id);
    expect((await t.server.gql(RESET, { t: token, p: 'yet another passphrase 10' })).body.errors[0].extensions.code).toBe('INVALID_TOKEN');
  });

  it('lets exactly one of 16 concurrent uses of a token succeed', async () => {
    const user = await signupWithEmail(t.server);
    const token = await requestReset(user);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => t.server.gql(RESET, { t: token, p: `concurrent passphrase number ${i}` })));
    for (const r of results) expect(r.status).toBe(200);
    expect(results.filter((r) => r.body.data?.resetPassword === true)).toHaveLength(1);
    for (const r of results.filter((r) => r.body.errors)) expect(r.body.errors[0].extensions.code).toBe('INVALID_TOKEN');
  });

  it('refuses an expired token, a token superseded by a newer one, and one issued before a password change', async () => {
    const user = await signupWithEmail(t.server);
    const expired = await requestReset(user);
    t.clock.advance(61 * 60_000);
    expect((await t.server.gql(RESET, { t: expired, p: 'late passphrase attempt 11' })).body.errors[0].extensions.code).toBe('INVALID_TOKEN');

    const older = await requestReset(user);
    const newer = await requestReset(user);
    expect((await t.server.gql(RESET, { t: older, p: 'superseded passphrase 12' })).body.errors[0].extensions.code).toBe('INVALID_TOKEN');

    const session = (await t.server.gql(LOGIN, { identifier: user.identifier, password: GOOD_PASSWORD })).body.data.login.token;
    await t.server.gql(
      'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }',
      { c: GOOD_PASSWORD, n: 'changed in between 13' },
      session,
    );
    expect((await t.server.gql(RESET, { t: newer, p: 'after a change passphrase 14' })).body.errors[0].extensions.code).toBe('INVALID_TOKEN');
  });

  it('checks the new password before spending the token', async () => {
    const user = await signupWithEmail(t.server);
    const token = await requestReset(user);
    const weak = await t.server.gql(RESET, { t: token, p: 'short' });
    expect(weak.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { newPassword: expect.any(String) } });
    expect((await t.server.gql(RESET, { t: token, p: 'now a proper passphrase 15' })).body.data.resetPassword).toBe(true);
  });

  it('answers identically for an existing and an unknown identifier', async () => {
    const user = await signupWithEmail(t.server);
    const known = await t.server.gql(REQUEST_RESET, { i: user.identifier });
    const unknown = await t.server.gql(REQUEST_RESET, { i: uniqueIdentifier('nobody') });
    expect(unknown.status).toBe(known.status);
    expect(unknown.text).toBe(known.text);
    await settle(t.server);
    expect(t.mail.messages.filter((m) => m.template === 'passwordReset' && m.to === user.email)).toHaveLength(1);
  });

  it('sends nothing for an account without an address', async () => {
    const user = await signupUser(t.server);
    await settle(t.server);
    t.mail.clear();
    expect((await t.server.gql(REQUEST_RESET, { i: user.identifier })).body.data.requestPasswordReset).toBe(true);
    await settle(t.server);
    expect(t.mail.messages.map((m) => [m.to, m.template])).toEqual([]);
  });
});

describe('token guesses', () => {
  it('are limited per client address like logins', async () => {
    const limited = await startTestServer({ TOKEN_MAX_FAILURES_PER_ADDRESS: '3', TRUST_PROXY: 'true' });
    try {
      const from = { 'x-forwarded-for': `192.0.2.${Math.floor(Math.random() * 250) + 1}` };
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.gql(CONFIRM, { t: 'x'.repeat(43) }, undefined, from);
        codes.push(res.body.errors[0].extensions.code);
      }
      expect(codes).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN', 'INVALID_TOKEN', 'RATE_LIMITED', 'RATE_LIMITED']);
      const reset = await limited.gql(RESET, { t: 'y'.repeat(43), p: 'whatever passphrase 16' }, undefined, from);
      expect(reset.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });
});
