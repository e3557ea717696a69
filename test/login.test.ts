import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordHasher } from '../src/modules/auth/password-hasher.ts';
import { loadConfig } from '../src/config.ts';
import { LOGIN, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

/** A real hasher that counts argon2 verifications. */
class CountingHasher extends PasswordHasher {
  verifications = 0;
  override async verify(stored: string | undefined, password: string) {
    this.verifications += 1;
    return super.verify(stored, password);
  }
}

let server: TestServer;
const hasher = new CountingHasher(loadConfig({}).passwords);
beforeAll(async () => {
  // MAX_SECRET_FIELDS: three aliased logins in one operation (default 1; test/security/query-cost.test.ts).
  server = await startTestServer({ LOGIN_MAX_FAILURES_PER_IDENTIFIER: '5', TRUST_PROXY: 'true', MAX_SECRET_FIELDS: '3' }, { passwordHasher: hasher });
});
afterAll(async () => {
  await server?.close();
});

/** A distinct client address per test, so per-address limits do not leak between tests. */
function fromAddress(n: number) {
  return { 'x-forwarded-for': `203.0.113.${n}` };
}

describe('login', () => {
  it('answers an unknown identifier and a wrong password with byte-identical errors, one argon2 call each', async () => {
    const user = await signupUser(server);
    const unknown = uniqueIdentifier();

    const before = hasher.verifications;
    const a = await server.gql(LOGIN, { identifier: unknown, password: 'some wrong password 1' }, undefined, fromAddress(1));
    expect(hasher.verifications - before).toBe(1);
    const b = await server.gql(LOGIN, { identifier: user.identifier, password: 'some wrong password 1' }, undefined, fromAddress(1));
    expect(hasher.verifications - before).toBe(2);

    expect(a.status).toBe(b.status);
    expect(a.text).toBe(b.text);
    expect(a.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
  });

  it('gives the same error for an account without a usable password', async () => {
    const user = await signupUser(server);
    await server.db.orm.em.fork().execute(`update users set password = '!unusable' where id = ?`, [user.id]);
    const before = hasher.verifications;
    const res = await server.gql(LOGIN, { identifier: user.identifier, password: user.password }, undefined, fromAddress(2));
    expect(hasher.verifications - before).toBe(1);
    expect(res.body.errors[0]).toEqual({
      message: 'Invalid identifier or password.',
      locations: [{ line: 3, column: 5 }],
      path: ['login'],
      extensions: { code: 'INVALID_CREDENTIALS' },
    });
    const me = await server.gql('{ me { hasUsablePassword } }', {}, user.token);
    expect(me.body.data.me.hasUsablePassword).toBe(false);
  });

  it('limits failed attempts per identifier and client address, counting every executed login field including aliases', async () => {
    const user = await signupUser(server);
    const aliased = `mutation($i: String!) {
      a: login(identifier: $i, password: "wrong password number 1") { token }
      b: login(identifier: $i, password: "wrong password number 2") { token }
      c: login(identifier: $i, password: "wrong password number 3") { token }
    }`;
    const first = await server.gql(aliased, { i: user.identifier }, undefined, fromAddress(3));
    expect(first.body.errors.map((e: any) => e.extensions.code)).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
    const second = await server.gql(aliased, { i: user.identifier }, undefined, fromAddress(3));
    const codes = second.body.errors.map((e: any) => e.extensions.code);
    expect(codes.filter((c: string) => c === 'INVALID_CREDENTIALS')).toHaveLength(2);
    expect(codes.filter((c: string) => c === 'RATE_LIMITED')).toHaveLength(1);
    // The right password is refused from that address while it waits…
    const right = await server.gql(LOGIN, { identifier: user.identifier, password: user.password }, undefined, fromAddress(3));
    expect(right.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    // …but not from another address: the account is not locked (test/security/lockout.test.ts).
    const elsewhere = await server.gql(LOGIN, { identifier: user.identifier, password: user.password }, undefined, fromAddress(5));
    expect(elsewhere.body.data.login.user.id).toBe(user.id);
  });

  it('clears the per-identifier failures after a successful login', async () => {
    const user = await signupUser(server);
    for (let i = 0; i < 4; i++) {
      await server.gql(LOGIN, { identifier: user.identifier, password: 'wrong password again' }, undefined, fromAddress(6));
    }
    expect((await server.gql(LOGIN, { identifier: user.identifier, password: user.password }, undefined, fromAddress(6))).body.data.login).toBeTruthy();
    for (let i = 0; i < 4; i++) {
      const res = await server.gql(LOGIN, { identifier: user.identifier, password: 'wrong password again' }, undefined, fromAddress(6));
      expect(res.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    }
  });

  it('limits failed attempts per client address across identifiers', async () => {
    const limited = await startTestServer({ LOGIN_MAX_FAILURES_PER_ADDRESS: '3', TRUST_PROXY: 'true' });
    try {
      const address = { 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250) + 1}` };
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.gql(LOGIN, { identifier: uniqueIdentifier(), password: 'whatever password 1' }, undefined, address);
        codes.push(res.body.errors[0].extensions.code);
      }
      expect(codes.slice(0, 3)).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
      expect(codes.slice(3)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    } finally {
      await limited.close();
    }
  });
});

describe('password upgrade', () => {
  it('re-hashes with the current argon2id parameters on login when they changed', async () => {
    const user = await signupUser(server);
    const stored = async () =>
      ((await server.db.orm.em.fork().execute('select password from users where id = ?', [user.id]))[0] as { password: string }).password;
    expect(await stored()).toMatch(/^\$argon2id\$v=19\$(?=[^$]*\bm=19456\b)(?=[^$]*\bt=2\b)(?=[^$]*\bp=1\b)/);

    const stronger = await startTestServer({ ARGON2_TIME_COST: '3' });
    try {
      const res = await stronger.gql(LOGIN, { identifier: user.identifier, password: user.password });
      expect(res.body.data.login.user.id).toBe(user.id);
      expect(await stored()).toMatch(/^\$argon2id\$v=19\$(?=[^$]*\bm=19456\b)(?=[^$]*\bt=3\b)(?=[^$]*\bp=1\b)/);
      expect((await stronger.gql(LOGIN, { identifier: user.identifier, password: user.password })).body.data.login).toBeTruthy();
    } finally {
      await stronger.close();
    }
  });
});
