import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, LOGIN, ME, signupStaff, signupUser, startTestServer, type TestServer } from './helpers/server.ts';

// Device sessions (SPEC §8): each session keeps the client's user agent and address; the user
// lists them, ends one or all the others; staff see a user's sessions and, holding
// auth.change_user, end them all.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ TRUST_PROXY: 'true' });
});
afterAll(async () => {
  await server?.close();
});

const SESSIONS = `{ me { sessions { id current userAgent address createdAt lastSeenAt expiresAt } } }`;
const USER_SESSIONS = `query($id: ID!) { user(id: $id) { sessions { id userAgent } } }`;

interface SessionView {
  id: string;
  current: boolean;
  userAgent: string | null;
  address: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

/** Logs `identifier` in from a client of its own (user agent and address). */
async function loginFrom(identifier: string, userAgent: string, address: string): Promise<string> {
  const res = await server.gql(LOGIN, { identifier, password: GOOD_PASSWORD }, undefined, { 'user-agent': userAgent, 'x-forwarded-for': address });
  expect(res.body.errors, res.text).toBeUndefined();
  return res.body.data.login.token as string;
}

async function sessionsOf(token: string): Promise<SessionView[]> {
  const res = await server.gql(SESSIONS, {}, token);
  expect(res.body.errors, res.text).toBeUndefined();
  return res.body.data.me.sessions as SessionView[];
}

async function isSignedIn(token: string): Promise<boolean> {
  return (await server.gql(ME, {}, token)).body.data.me !== null;
}

describe('device sessions', () => {
  it("lists the user's sessions with their client, marks the current one, and hides them from strangers", async () => {
    const user = await signupUser(server);
    const laptop = await loginFrom(user.identifier, 'Laptop/1.0', '198.51.100.10');
    const phone = await loginFrom(user.identifier, 'Phone/2.0', '198.51.100.20');

    const listed = await sessionsOf(laptop);
    expect(listed).toHaveLength(3); // signup, laptop, phone
    const byAgent = new Map(listed.map((s) => [s.userAgent, s]));
    expect(byAgent.get('Laptop/1.0')).toMatchObject({ current: true, address: '198.51.100.10' });
    expect(byAgent.get('Phone/2.0')).toMatchObject({ current: false, address: '198.51.100.20' });
    expect(listed.filter((s) => s.current)).toHaveLength(1);
    for (const s of listed) {
      expect(Date.parse(s.expiresAt)).toBeGreaterThan(Date.parse(s.createdAt));
      expect(Date.parse(s.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(s.createdAt));
    }
    expect((await sessionsOf(phone)).find((s) => s.current)?.userAgent).toBe('Phone/2.0');

    const stranger = await signupUser(server);
    const seen = await server.gql(USER_SESSIONS, { id: user.id }, stranger.token);
    expect(seen.body.data.user.sessions).toBeNull();
    expect((await server.gql(USER_SESSIONS, { id: user.id })).body.data.user.sessions).toBeNull();
    // Not even the payload of the user's own login lists them: that request is not signed in.
    const payload = await server.gql('mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { user { sessions { id } } } }', {
      i: user.identifier,
      p: GOOD_PASSWORD,
    });
    expect(payload.body.data.login.user.sessions).toBeNull();
  });

  it('revokeSession ends that session and leaves the others; another user cannot end it', async () => {
    const user = await signupUser(server);
    const laptop = await loginFrom(user.identifier, 'Laptop/1.0', '198.51.100.11');
    const phone = await loginFrom(user.identifier, 'Phone/2.0', '198.51.100.21');
    const phoneId = (await sessionsOf(laptop)).find((s) => s.userAgent === 'Phone/2.0')!.id;

    const other = await signupUser(server);
    const foreign = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: phoneId }, other.token);
    expect(foreign.body.data.revokeSession).toBe(false);
    expect(await isSignedIn(phone)).toBe(true);

    const revoked = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: phoneId }, laptop);
    expect(revoked.body.data.revokeSession).toBe(true);
    expect(await isSignedIn(phone)).toBe(false);
    expect(await isSignedIn(laptop)).toBe(true);
    expect(await isSignedIn(user.token)).toBe(true);
    expect((await sessionsOf(laptop)).map((s) => s.userAgent)).not.toContain('Phone/2.0');
    const again = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: phoneId }, laptop);
    expect(again.body.data.revokeSession).toBe(false);
    const malformed = await server.gql('mutation { revokeSession(id: "nonsense") }', {}, laptop);
    expect(malformed.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const anonymous = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: phoneId });
    expect(anonymous.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('logoutOthers keeps only the current session', async () => {
    const user = await signupUser(server);
    const laptop = await loginFrom(user.identifier, 'Laptop/1.0', '198.51.100.12');
    const phone = await loginFrom(user.identifier, 'Phone/2.0', '198.51.100.22');
    const res = await server.gql('mutation { logoutOthers }', {}, laptop);
    expect(res.body.data.logoutOthers).toBe(2);
    expect(await isSignedIn(laptop)).toBe(true);
    expect(await isSignedIn(phone)).toBe(false);
    expect(await isSignedIn(user.token)).toBe(false);
    expect(await sessionsOf(laptop)).toHaveLength(1);
  });

  it('staff read a user’s sessions; ending them all takes auth.change_user', async () => {
    const user = await signupUser(server);
    await loginFrom(user.identifier, 'Tablet/3.0', '198.51.100.13');

    const plainStaff = (await signupStaff(server)).staff;
    const read = await server.gql(USER_SESSIONS, { id: user.id }, plainStaff.token);
    expect((read.body.data.user.sessions as { userAgent: string | null }[]).map((s) => s.userAgent)).toContain('Tablet/3.0');
    const refused = await server.gql('mutation($u: ID!) { revokeUserSessions(userId: $u) }', { u: user.id }, plainStaff.token);
    expect(refused.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await isSignedIn(user.token)).toBe(true);

    const changer = (await signupStaff(server, ['auth.change_user'])).staff;
    const ended = await server.gql('mutation($u: ID!) { revokeUserSessions(userId: $u) }', { u: user.id }, changer.token);
    expect(ended.body.errors, ended.text).toBeUndefined();
    expect(ended.body.data.revokeUserSessions).toBe(2);
    expect(await isSignedIn(user.token)).toBe(false);
    const missing = await server.gql('mutation { revokeUserSessions(userId: "999999999") }', {}, changer.token);
    expect(missing.body.errors[0].extensions.code).toBe('NOT_FOUND');

    const events = await server.db.orm.em
      .fork()
      .execute<{ data: { sessions: number; which: string } }[]>("select data from audit_events where type = 'auth.sessions_revoked' and subject_id = ?", [
        user.id,
      ]);
    expect(events.map((e) => e.data)).toEqual([{ sessions: 2, which: 'all' }]);
  });

  it('a page of users with their sessions costs one statement for the sessions', async () => {
    const viewer = (await signupStaff(server)).staff;
    const users = [await signupUser(server), await signupUser(server), await signupUser(server)];
    const ids = users.map((u) => u.id);
    server.resetQueries();
    const res = await server.gql('query($ids: [ID!]!) { _usersByIds(ids: $ids) { id sessions { id } } }', { ids }, viewer.token);
    expect(res.body.errors, res.text).toBeUndefined();
    expect((res.body.data._usersByIds as { sessions: unknown[] }[]).map((u) => u.sessions.length)).toEqual([1, 1, 1]);
    expect(server.queries.filter((q) => /from sessions s\s+where s\.user_id in/.test(q))).toHaveLength(1);
  });
});
