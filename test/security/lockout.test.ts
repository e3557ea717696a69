import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FIRST_DELAY_SECONDS } from '../../src/modules/auth/login-throttle.ts';
import { GOOD_PASSWORD, startTestServer, uniqueIdentifier, type GqlResponse, type TestServer } from '../helpers/server.ts';

// Finding 4 of issue 10, "anyone can lock any account": failed logins must slow the guesser
// down without locking the owner out (OWASP's device-cookie pattern).

const PER_CLIENT = 3; // LOGIN_MAX_FAILURES_PER_IDENTIFIER: per (account, address) or (account, device)
const ACCOUNT_CEILING = 6; // LOGIN_MAX_FAILURES_PER_ACCOUNT_HOUR: all unknown clients together

const LOGIN = `mutation($identifier: String!, $password: String!, $deviceToken: String) {
  login(identifier: $identifier, password: $password, deviceToken: $deviceToken) { token deviceToken user { id } }
}`;
const CHANGE_PASSWORD = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
const WRONG = 'not the password at all 1';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    TRUST_PROXY: 'true',
    LOGIN_MAX_FAILURES_PER_IDENTIFIER: String(PER_CLIENT),
    LOGIN_MAX_FAILURES_PER_ACCOUNT_HOUR: String(ACCOUNT_CEILING),
  });
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A fresh client address (documentation range 198.18.0.0/15), as `x-forwarded-for` with TRUST_PROXY. */
function address() {
  const [a, b] = randomBytes(2);
  return { 'x-forwarded-for': `198.18.${a}.${b}` };
}

/** Signs up an account; its signup returns the device token of the signing-up client. */
async function account() {
  const identifier = uniqueIdentifier('lockout');
  const res = await server.gql(
    `mutation($identifier: String!, $password: String!) { signup(input: { identifier: $identifier, password: $password }) { token deviceToken user { id } } }`,
    {
      identifier,
      password: GOOD_PASSWORD,
    },
  );
  expect(res.body.data?.signup, res.text).toBeTruthy();
  const { token, deviceToken, user } = res.body.data.signup as { token: string; deviceToken: string; user: { id: string } };
  expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { identifier, id: user.id, token, deviceToken };
}

function login(identifier: string, password: string, from: Record<string, string>, deviceToken?: string): Promise<GqlResponse> {
  return server.gql(LOGIN, { identifier, password, ...(deviceToken === undefined ? {} : { deviceToken }) }, undefined, from);
}

function code(res: GqlResponse): string | undefined {
  return res.body.errors?.[0]?.extensions?.code;
}

/** Wrong passwords from `from` until the (account, address) allowance is spent; returns the codes. */
async function exhaustClient(identifier: string, from: Record<string, string>): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < PER_CLIENT; i++) codes.push(code(await login(identifier, WRONG, from))!);
  return codes;
}

/**
 * An attacker guessing from a fresh address each time (so no per-address limit applies) until
 * the account's unknown-client ceiling refuses; returns how many guesses ran and the refusal.
 */
async function exhaustCeiling(identifier: string): Promise<{ failures: number; refusal: GqlResponse }> {
  for (let failures = 0; failures <= ACCOUNT_CEILING; failures++) {
    const res = await login(identifier, WRONG, address());
    if (code(res) === 'RATE_LIMITED') {
      // The ceiling is an hour's window, not the short per-client delay.
      expect(res.body.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(FIRST_DELAY_SECONDS * 100);
      return { failures, refusal: res };
    }
    expect(code(res)).toBe('INVALID_CREDENTIALS');
  }
  throw new Error('the account ceiling never refused');
}

describe('throttling without a lockout lever', () => {
  it("throttles the attacker's address, not the owner, and lets the owner's device in past the account ceiling", async () => {
    const owner = await account();
    const attacker = address();
    const home = address();

    expect(await exhaustClient(owner.identifier, attacker)).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
    const throttled = await login(owner.identifier, GOOD_PASSWORD, attacker);
    expect(throttled.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(throttled.body.errors[0].extensions.retryAfterSeconds).toBeLessThanOrEqual(FIRST_DELAY_SECONDS);

    // The owner from another address, with no device token, is not locked out by that.
    const fromHome = await login(owner.identifier, GOOD_PASSWORD, home);
    expect(fromHome.body.data.login.user.id, fromHome.text).toBe(owner.id);

    // Once the unknown-client ceiling of the account is spent (the attacker's 3 failures count,
    // the owner's success does not), unknown clients wait…
    expect((await exhaustCeiling(owner.identifier)).failures).toBe(ACCOUNT_CEILING - PER_CLIENT);
    const unknownClient = await login(owner.identifier, GOOD_PASSWORD, home);
    expect(code(unknownClient)).toBe('RATE_LIMITED');

    // …but the owner's device keeps its own allowance, from home or even from the attacker's address.
    for (const from of [home, attacker]) {
      const known = await login(owner.identifier, GOOD_PASSWORD, from, owner.deviceToken);
      expect(known.body.data?.login, known.text).toMatchObject({ user: { id: owner.id }, deviceToken: owner.deviceToken });
    }
    // A session of the account is a known client too: changePassword still works.
    const changed = await server.gql(CHANGE_PASSWORD, { c: GOOD_PASSWORD, n: `${GOOD_PASSWORD} again` }, owner.token, home);
    expect(changed.body, changed.text).toEqual({ data: { changePassword: true } });
  });

  it("a device's own failures are limited per device with escalating delays", async () => {
    const owner = await account();
    const from = address();
    const realNow = Date.now.bind(Date);
    let offsetMs = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);

    expect(await exhaustClient(owner.identifier, from)).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      const res = await login(owner.identifier, WRONG, from);
      expect(code(res)).toBe('RATE_LIMITED');
      waits.push(res.body.errors[0].extensions.retryAfterSeconds as number);
      offsetMs += (res.body.errors[0].extensions.retryAfterSeconds as number) * 1000 + 1000;
      expect(code(await login(owner.identifier, WRONG, from))).toBe('INVALID_CREDENTIALS');
    }
    expect(waits[0]).toBeLessThanOrEqual(FIRST_DELAY_SECONDS);
    expect(waits[1]).toBeGreaterThan(FIRST_DELAY_SECONDS);
    expect(waits[2]).toBeGreaterThan(waits[1]!);
    expect(waits[2]).toBeLessThanOrEqual(FIRST_DELAY_SECONDS * 4);

    // The same allowance, separately, for a device: its failures do not touch the address's.
    const device = address();
    const codes: (string | undefined)[] = [];
    for (let i = 0; i <= PER_CLIENT; i++) codes.push(code(await login(owner.identifier, WRONG, device, owner.deviceToken)));
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
    offsetMs += FIRST_DELAY_SECONDS * 1000 + 1000;
    expect((await login(owner.identifier, GOOD_PASSWORD, device, owner.deviceToken)).body.data.login.user.id).toBe(owner.id);
  });

  it('a device token of another account does not help, and neither does a forged or expired one', async () => {
    const victim = await account();
    const other = await account();
    await exhaustCeiling(victim.identifier);
    const from = address();

    expect((await exhaustCeiling(other.identifier)).failures).toBe(ACCOUNT_CEILING);
    expect(code(await login(victim.identifier, GOOD_PASSWORD, from))).toBe('RATE_LIMITED');
    // The victim's own device gets in; then its token expires.
    expect((await login(victim.identifier, GOOD_PASSWORD, from, victim.deviceToken)).body.data?.login?.user.id).toBe(victim.id);
    await server.db.orm.em.fork().execute(`update device_tokens set expires_at = now() - interval '1 second' where user_id = ?`, [victim.id]);

    for (const token of [other.deviceToken, victim.deviceToken, randomBytes(32).toString('base64url'), 'not a token', '']) {
      const res = await login(victim.identifier, GOOD_PASSWORD, from, token);
      expect(res.body.errors?.[0]?.extensions, `${token}: ${res.text}`).toMatchObject({ code: 'RATE_LIMITED' });
    }
    // Ignored, not an error: an account logs in with a forged or expired token (once its
    // ceiling's window has passed; here: a fresh account) and gets a fresh one.
    const third = await account();
    for (const token of [randomBytes(32).toString('base64url'), victim.deviceToken]) {
      const res = await login(third.identifier, GOOD_PASSWORD, address(), token);
      expect(res.body.data?.login, res.text).toMatchObject({ user: { id: third.id } });
      expect(res.body.data.login.deviceToken).not.toBe(token);
      expect(res.body.data.login.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    // Another account's own token still works for that account.
    expect((await login(other.identifier, GOOD_PASSWORD, from, other.deviceToken)).body.data?.login?.user.id).toBe(other.id);
  });

  it('answers RATE_LIMITED the same for an unknown identifier', async () => {
    const known = await account();
    const unknown = uniqueIdentifier('nobody');
    const from = address();
    await exhaustClient(known.identifier, from);
    const a = await login(known.identifier, WRONG, from);
    await exhaustClient(unknown, from);
    const b = await login(unknown, WRONG, from);
    expect(code(a)).toBe('RATE_LIMITED');
    expect(a.status).toBe(b.status);
    const shape = (res: GqlResponse) => res.text.replace(/"retryAfterSeconds":\d+/, '"retryAfterSeconds":0');
    expect(shape(a)).toBe(shape(b));

    // The unknown-client ceiling too.
    const c = await exhaustCeiling(known.identifier);
    const d = await exhaustCeiling(unknown);
    expect(c.failures).toBe(d.failures);
    const ceiling = (res: GqlResponse) => res.text.replace(/"retryAfterSeconds":\d+/, '"retryAfterSeconds":0');
    expect(ceiling(c.refusal)).toBe(ceiling(d.refusal));
  });
});
