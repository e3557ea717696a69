import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from './helpers/clock.ts';
import { GOOD_PASSWORD, signupSuperuser, signupUser, startTestServer, type TestServer } from './helpers/server.ts';

// Second factors (SPEC §8): TOTP enrolment with recovery codes, the two-step login, the
// challenge's rules, and AAL2 for staff operations.

const LOGIN = `mutation($i: String!, $p: String!) {
  login(identifier: $i, password: $p) { token user { id } secondFactorRequired challenge methods }
}`;
const VERIFY = 'mutation($c: String!, $code: String!) { verifySecondFactor(challenge: $c, code: $code) { token user { id } secondFactorRequired } }';
const STATUS = '{ me { secondFactor { totpEnabled recoveryCodesRemaining } sessions { current assuranceLevel } } }';

function addressHeader(n: number) {
  return { 'x-forwarded-for': `203.0.113.${n}` };
}

describe('TOTP and the two-step login', () => {
  const clock = new ManualClock();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true' }, { clock });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The authenticator app: the TOTP of the enrolment URI, reading the service's clock. */
  function app(otpauthUri: string) {
    const totp = URI.parse(otpauthUri) as TOTP;
    return { code: () => totp.generate({ timestamp: clock.now().getTime() }), totp };
  }

  /** A user with TOTP enabled: its token, identifier, authenticator and recovery codes. */
  async function enrolled(address: number) {
    const user = await signupUser(server);
    const started = await server.gql('mutation { startTotpEnrollment { otpauthUri qrCodeDataUrl } }', {}, user.token);
    expect(started.body.errors, started.text).toBeUndefined();
    const { otpauthUri, qrCodeDataUrl } = started.body.data.startTotpEnrollment as { otpauthUri: string; qrCodeDataUrl: string };
    expect(otpauthUri).toMatch(new RegExp(`^otpauth://totp/profilegraph:${user.identifier}\\?`));
    expect(otpauthUri).toContain('issuer=profilegraph');
    expect(qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    const authenticator = app(otpauthUri);
    const confirmed = await server.gql('mutation($c: String!) { confirmTotp(code: $c) }', { c: authenticator.code() }, user.token);
    expect(confirmed.body.errors, confirmed.text).toBeUndefined();
    const recoveryCodes = confirmed.body.data.confirmTotp as string[];
    return { ...user, authenticator, recoveryCodes, from: addressHeader(address) };
  }

  async function challengeFor(user: { identifier: string; from: Record<string, string> }) {
    const res = await server.gql(LOGIN, { i: user.identifier, p: GOOD_PASSWORD }, undefined, user.from);
    expect(res.body.errors, res.text).toBeUndefined();
    return res.body.data.login as { token: string | null; user: unknown; secondFactorRequired: boolean; challenge: string; methods: string[] };
  }

  it('enrols with a confirmed code and gives 10 distinct recovery codes, shown once', async () => {
    const user = await signupUser(server);
    const started = await server.gql('mutation { startTotpEnrollment { otpauthUri } }', {}, user.token);
    const authenticator = app(started.body.data.startTotpEnrollment.otpauthUri as string);
    const wrong = await server.gql('mutation { confirmTotp(code: "000000") }', {}, user.token);
    expect(wrong.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { code: expect.any(String) } });
    expect((await server.gql(STATUS, {}, user.token)).body.data.me.secondFactor).toEqual({ totpEnabled: false, recoveryCodesRemaining: 0 });

    const confirmed = await server.gql('mutation($c: String!) { confirmTotp(code: $c) }', { c: authenticator.code() }, user.token);
    const codes = confirmed.body.data.confirmTotp as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect((await server.gql(STATUS, {}, user.token)).body.data.me.secondFactor).toEqual({ totpEnabled: true, recoveryCodesRemaining: 10 });
    // The secret is stored encrypted, never in clear.
    const [row] = await server.db.orm.em.fork().execute<{ secret: string }[]>('select secret from totp_credentials where user_id = ?', [user.id]);
    expect(row!.secret).toMatch(/^v1\./);
    expect(row!.secret).not.toContain(authenticator.totp.secret.base32);
    // Enrolling again while enabled is refused; a stranger cannot read the status.
    expect((await server.gql('mutation { startTotpEnrollment { otpauthUri } }', {}, user.token)).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const stranger = await signupUser(server);
    const seen = await server.gql('query($id: ID!) { user(id: $id) { secondFactor { totpEnabled } } }', { id: user.id }, stranger.token);
    expect(seen.body.data.user.secondFactor).toBeNull();
  });

  it('a login of an enrolled user opens no session until the second step, which refuses a replayed code', async () => {
    const user = await enrolled(1);
    const sessionsBefore = await server.db.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from sessions where user_id = ?', [user.id]);
    const first = await challengeFor(user);
    expect(first).toMatchObject({ token: null, user: null, secondFactorRequired: true, methods: ['TOTP', 'RECOVERY_CODE'] });
    expect(first.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const sessionsAfter = await server.db.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from sessions where user_id = ?', [user.id]);
    expect(sessionsAfter[0]!.n).toBe(sessionsBefore[0]!.n);

    // The code that confirmed the enrolment is spent for its step: refused.
    const replay = await server.gql(VERIFY, { c: first.challenge, code: user.authenticator.code() }, undefined, user.from);
    expect(replay.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    expect(replay.body.data.verifySecondFactor).toBeNull();

    clock.advance(30_000);
    const code = user.authenticator.code();
    const passed = await server.gql(VERIFY, { c: first.challenge, code }, undefined, user.from);
    expect(passed.body.errors, passed.text).toBeUndefined();
    expect(passed.body.data.verifySecondFactor).toMatchObject({ user: { id: user.id }, secondFactorRequired: false });
    const token = passed.body.data.verifySecondFactor.token as string;
    const status = await server.gql(STATUS, {}, token);
    expect(status.body.data.me.sessions.find((s: { current: boolean }) => s.current).assuranceLevel).toBe('AAL2');

    // The challenge is single use, and the same code does not pass a new challenge either.
    clock.advance(30_000);
    const again = await server.gql(VERIFY, { c: first.challenge, code: user.authenticator.code() }, undefined, user.from);
    expect(again.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const second = await challengeFor(user);
    const reused = await server.gql(VERIFY, { c: second.challenge, code }, undefined, user.from);
    expect(reused.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
  });

  it('a recovery code passes once; a challenge is bound to the client address and expires', async () => {
    const user = await enrolled(2);
    const challenge = (await challengeFor(user)).challenge;
    // From another address the challenge is worth nothing.
    clock.advance(30_000);
    const elsewhere = await server.gql(VERIFY, { c: challenge, code: user.authenticator.code() }, undefined, addressHeader(99));
    expect(elsewhere.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');

    const recovery = user.recoveryCodes[3]!;
    const passed = await server.gql(VERIFY, { c: challenge, code: recovery.toUpperCase() }, undefined, user.from);
    expect(passed.body.errors, passed.text).toBeUndefined();
    expect(passed.body.data.verifySecondFactor.token).toBeTruthy();
    const spent = await server.gql(VERIFY, { c: (await challengeFor(user)).challenge, code: recovery }, undefined, user.from);
    expect(spent.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    expect((await server.gql(STATUS, {}, user.token)).body.data.me.secondFactor.recoveryCodesRemaining).toBe(9);

    const late = await challengeFor(user);
    clock.advance(301_000);
    const expired = await server.gql(VERIFY, { c: late.challenge, code: user.authenticator.code() }, undefined, user.from);
    expect(expired.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
  });

  it('the login limiter counts second-factor failures', async () => {
    const user = await enrolled(3);
    const challenge = (await challengeFor(user)).challenge;
    const codes: string[] = [];
    for (let i = 0; i < 15; i++) {
      const res = await server.gql(VERIFY, { c: challenge, code: String(100000 + i) }, undefined, user.from);
      codes.push(res.body.errors[0].extensions.code as string);
      if (codes.at(-1) === 'RATE_LIMITED') break;
    }
    expect(codes.at(-1)).toBe('RATE_LIMITED');
    expect(codes.slice(0, -1).every((c) => c === 'INVALID_CREDENTIALS')).toBe(true);
    const failures = await server.db.orm.em
      .fork()
      .execute<{ n: string }[]>("select count(*) as n from audit_events where type = 'auth.second_factor_failed' and subject_id = ?", [user.id]);
    expect(Number(failures[0]!.n)).toBe(codes.length - 1);
  });

  it('a correct password does not reset the count of wrong codes', async () => {
    const user = await enrolled(5);
    const outcomes: string[] = [];
    for (let i = 0; i < 15; i++) {
      const login = await server.gql(LOGIN, { i: user.identifier, p: GOOD_PASSWORD }, undefined, user.from);
      if (login.body.errors) {
        outcomes.push(login.body.errors[0].extensions.code as string);
        break;
      }
      const res = await server.gql(VERIFY, { c: login.body.data.login.challenge, code: String(200000 + i) }, undefined, user.from);
      outcomes.push(res.body.errors[0].extensions.code as string);
      if (outcomes.at(-1) === 'RATE_LIMITED') break;
    }
    expect(outcomes.at(-1)).toBe('RATE_LIMITED');
    expect(outcomes.length).toBeLessThan(15);
  });

  it('regenerateRecoveryCodes needs the password and a current code; the old codes stop working', async () => {
    const user = await enrolled(6);
    const passwordOnly = await server.gql('mutation($p: String!) { regenerateRecoveryCodes(password: $p, code: "999999") }', { p: GOOD_PASSWORD }, user.token);
    expect(passwordOnly.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    clock.advance(30_000);
    const fresh = await server.gql(
      'mutation($p: String!, $c: String!) { regenerateRecoveryCodes(password: $p, code: $c) }',
      { p: GOOD_PASSWORD, c: user.authenticator.code() },
      user.token,
    );
    expect(fresh.body.errors, fresh.text).toBeUndefined();
    const codes = fresh.body.data.regenerateRecoveryCodes as string[];
    expect(codes).toHaveLength(10);
    const old = await server.gql(VERIFY, { c: (await challengeFor(user)).challenge, code: user.recoveryCodes[0]! }, undefined, user.from);
    expect(old.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const current = await server.gql(VERIFY, { c: (await challengeFor(user)).challenge, code: codes[0]! }, undefined, user.from);
    expect(current.body.errors, current.text).toBeUndefined();
  });

  it('disableTotp needs the password and a code; afterwards login opens a session at once', async () => {
    const user = await enrolled(4);
    clock.advance(30_000);
    const wrongPassword = await server.gql(
      'mutation($c: String!) { disableTotp(password: "not the password at all", code: $c) }',
      { c: user.authenticator.code() },
      user.token,
    );
    expect(wrongPassword.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const wrongCode = await server.gql('mutation($p: String!) { disableTotp(password: $p, code: "123456") }', { p: GOOD_PASSWORD }, user.token);
    expect(wrongCode.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    const disabled = await server.gql(
      'mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }',
      { p: GOOD_PASSWORD, c: user.authenticator.code() },
      user.token,
    );
    expect(disabled.body.errors, disabled.text).toBeUndefined();
    const login = await challengeFor(user);
    expect(login.secondFactorRequired).toBe(false);
    expect(login.token).toBeTruthy();
  });
});

describe('STAFF_REQUIRE_AAL2', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ STAFF_REQUIRE_AAL2: 'true' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses staff operations to a password-only session with AAL2_REQUIRED, and allows them after a second factor', async () => {
    const admin = await signupSuperuser(server);
    const refused = await server.gql('{ groups { id } }', {}, admin.token);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'AAL2_REQUIRED' });
    // Nor does a password-only session read others' private fields as staff.
    const other = await signupUser(server);
    await server.gql('mutation { updateProfiles(input: { mail: { email: "aal2-private@example.com" } }) { id } }', {}, other.token);
    const peek = await server.gql('query($id: ID!) { user(id: $id) { mail { email } } }', { id: other.id }, admin.token);
    expect(peek.body.data.user.mail.email).toBeNull();

    const started = await server.gql('mutation { startTotpEnrollment { otpauthUri } }', {}, admin.token);
    const totp = URI.parse(started.body.data.startTotpEnrollment.otpauthUri as string) as TOTP;
    await server.gql('mutation($c: String!) { confirmTotp(code: $c) }', { c: totp.generate() }, admin.token);
    const login = await server.gql(LOGIN, { i: admin.identifier, p: GOOD_PASSWORD });
    const recovery = (await server.db.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from recovery_codes where user_id = ?', [admin.id]))[0]!;
    expect(Number(recovery.n)).toBe(10);
    // The step of the confirming code is spent; the next step's code (within the ±1 window) passes.
    const next = totp.generate({ timestamp: Date.now() + 30_000 });
    const verified = await server.gql(VERIFY, { c: login.body.data.login.challenge, code: next });
    expect(verified.body.errors, verified.text).toBeUndefined();
    const aal2 = verified.body.data.verifySecondFactor.token as string;
    const allowed = await server.gql('{ groups { id } }', {}, aal2);
    expect(allowed.body.errors, allowed.text).toBeUndefined();
    const read = await server.gql('query($id: ID!) { user(id: $id) { mail { email } } }', { id: other.id }, aal2);
    expect(read.body.data.user.mail.email).toBe('aal2-private@example.com');
  });
});
