import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ME, signupUser, startTestServer, type TestServer } from '../helpers/server.ts';

// Issue 10, finding 8: deactivation ends access. Every request of an inactive user is
// unauthenticated whatever wrote the flag, and the account's sessions are ended.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const setFlag = (userId: string, column: 'is_staff' | 'is_superuser' | 'is_active', value: boolean) =>
  server.db.orm.em.fork().execute(`update profile_account set ${column} = ? where user_id = ?`, [value, userId]);

async function superuser() {
  const user = await signupUser(server);
  await setFlag(user.id, 'is_staff', true);
  await setFlag(user.id, 'is_superuser', true);
  return user;
}

const sessionCount = async (userId: string) =>
  Number((await server.db.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from sessions where user_id = ?', [userId]))[0]!.n);

/** What the victim's token can still do: `me`, `updateProfiles`, `follow`. */
async function access(token: string, someoneElse: string) {
  const me = await server.gql(ME, {}, token);
  const update = await server.gql('mutation { updateProfiles(input: { social: { bio: "still here" } }) { id } }', {}, token);
  const follow = await server.gql('mutation($u: ID!) { follow(userId: $u) }', { u: someoneElse }, token);
  return {
    me: me.body.data?.me ?? null,
    update: update.body.errors?.[0]?.extensions?.code ?? 'ok',
    follow: follow.body.errors?.[0]?.extensions?.code ?? 'ok',
  };
}

const DENIED = { me: null, update: 'UNAUTHENTICATED', follow: 'UNAUTHENTICATED' };

describe('deactivation ends access', () => {
  it('setUserFlags(isActive: false): the existing token answers as no session, and stays dead after reactivation', async () => {
    const admin = await superuser();
    const [victim, other] = await Promise.all([signupUser(server), signupUser(server)]);
    expect((await access(victim.token, other.id)).me).toMatchObject({ id: victim.id });
    expect(await sessionCount(victim.id)).toBe(1);

    const res = await server.gql('mutation($u: ID!) { setUserFlags(userId: $u, flags: { isActive: false }) { id } }', { u: victim.id }, admin.token);
    expect(res.body.errors).toBeUndefined();
    expect(await sessionCount(victim.id)).toBe(0);
    expect(await access(victim.token, other.id)).toEqual(DENIED);

    await server.gql('mutation($u: ID!) { setUserFlags(userId: $u, flags: { isActive: true }) { id } }', { u: victim.id }, admin.token);
    expect((await server.gql(ME, {}, victim.token)).body.data.me).toBeNull();
    // The admin's own session is untouched.
    expect((await server.gql(ME, {}, admin.token)).body.data.me).toMatchObject({ id: admin.id });
  });

  it('updateProfiles and setData by staff writing the isActive field end the sessions too', async () => {
    const admin = await superuser();
    const [a, b, other] = await Promise.all([signupUser(server), signupUser(server), signupUser(server)]);
    const viaProfiles = await server.gql(
      'mutation($u: ID!) { updateProfiles(userId: $u, input: { account: { isActive: false } }) { id } }',
      { u: a.id },
      admin.token,
    );
    expect(viaProfiles.body.errors).toBeUndefined();
    const viaData = await server.gql('mutation($u: ID!) { setData(userId: $u, key: "isActive", value: false) { id } }', { u: b.id }, admin.token);
    expect(viaData.body.errors).toBeUndefined();
    for (const user of [a, b]) {
      expect(await sessionCount(user.id)).toBe(0);
      expect(await access(user.token, other.id)).toEqual(DENIED);
    }
  });

  it('a flag written behind the service’s back (direct SQL) still makes every request unauthenticated', async () => {
    const [victim, other] = await Promise.all([signupUser(server), signupUser(server)]);
    await setFlag(victim.id, 'is_active', false);
    // The session row survives (nothing in the service saw the write), yet it authenticates nobody.
    expect(await sessionCount(victim.id)).toBe(1);
    expect(await access(victim.token, other.id)).toEqual(DENIED);
    await setFlag(victim.id, 'is_active', true);
    expect((await server.gql(ME, {}, victim.token)).body.data.me).toMatchObject({ id: victim.id });
  });

  it('keeps the session lookup at one statement per authenticated request', async () => {
    const user = await signupUser(server);
    // Touch the session first so the lookup below does not refresh last_seen_at.
    await server.gql(ME, {}, user.token);
    server.resetQueries();
    await server.gql('{ me { id } }', {}, user.token);
    expect(server.queries.filter((q) => /\bfrom sessions\b/i.test(q))).toHaveLength(1);
    expect(server.queries).toHaveLength(1);
  });
});
