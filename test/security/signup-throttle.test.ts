import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { PasswordHasher } from '../../src/modules/auth/password-hasher.ts';
import { GOOD_PASSWORD, SIGNUP, startTestServer, uniqueIdentifier, type TestServer } from '../helpers/server.ts';

// Signup hashes a password (argon2) and, refused on a unique private value such as
// `mail.email`, tells whether that value is registered: it is bounded per operation (a
// secret field, at most one) and per client address (`SIGNUP_MAX_PER_ADDRESS_HOUR`).

/** The real hasher, counting argon2 hashes. */
class CountingHasher extends PasswordHasher {
  hashes = 0;
  override async hash(password: string) {
    this.hashes += 1;
    return super.hash(password);
  }
}

let server: TestServer;
const hasher = new CountingHasher(loadConfig({}).passwords);
beforeAll(async () => {
  server = await startTestServer({ SIGNUP_MAX_PER_ADDRESS_HOUR: '3', TRUST_PROXY: 'true' }, { passwordHasher: hasher });
});
afterAll(async () => {
  await server?.close();
});

// The limiter's counters live in the database, which other test files share on a real
// PostgreSQL: this file signs up from a random private address of its own (through TRUST_PROXY).
const rand = (n: number) => Math.floor(Math.random() * n);
const client = { 'x-forwarded-for': `10.${rand(256)}.${rand(256)}.${rand(254) + 1}` };
const signup = (identifier = uniqueIdentifier('throttle')) => server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD }, undefined, client);

describe('signup cost', () => {
  it('allows one signup per operation: 15 aliased signups are refused before any hash', async () => {
    const before = hasher.hashes;
    const aliased = `mutation { ${Array.from({ length: 15 }, (_, i) => `s${i}: signup(input: { identifier: "${uniqueIdentifier('alias')}", password: "${GOOD_PASSWORD}" }) { token }`).join('\n')} }`;
    const res = await server.gql(aliased);
    expect(res.status, res.text).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(hasher.hashes).toBe(before);
  });

  it('answers RATE_LIMITED with retryAfterSeconds past SIGNUP_MAX_PER_ADDRESS_HOUR from one address, without hashing', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await signup();
      expect(ok.body.errors, ok.text).toBeUndefined();
    }
    const before = hasher.hashes;
    const refused = await signup();
    expect(refused.body.errors?.[0].extensions, refused.text).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(hasher.hashes).toBe(before);
  });
});
