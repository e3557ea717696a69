import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupUser, startTestServer, type TestServer } from './helpers/server.ts';

// The session lookup also reads the viewer's rows of the profiles holding isActive, isStaff and
// isSuperuser, so neither the staff test nor the viewer's own account fields cost a statement
// of their own (counts, not timings: they hold on any machine).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('statements per authenticated request', () => {
  it("a staff member reading another user's private field: the session lookup and the user's own statement", async () => {
    const staff = await signupUser(server);
    await server.db.orm.em.fork().execute('update profile_account set is_staff = true where user_id = ?', [staff.id]);
    const other = await signupUser(server);
    await server.gql('mutation { updateProfiles(input: { mail: { email: "statements@example.com" } }) { id } }', {}, other.token);
    // The confirmation mail is background work: let it finish before counting.
    await server.app.services.background.drain();
    await server.app.services.mailer.drain();
    server.resetQueries();
    const res = await server.gql('query($id: ID!) { user(id: $id) { mail { email } } }', { id: other.id }, staff.token);
    expect(res.body.errors, res.text).toBeUndefined();
    expect(res.body.data.user.mail.email).toBe('statements@example.com');
    expect(server.queries, server.queries.join('\n')).toHaveLength(2);
    expect(server.queries[0]).toMatch(/from sessions s join users u/);
  });

  it('me with its account profile: the session lookup alone', async () => {
    const user = await signupUser(server);
    server.resetQueries();
    const res = await server.gql('{ me { id account { isStaff isActive } } }', {}, user.token);
    expect(res.body.data.me.account).toEqual({ isStaff: false, isActive: true });
    expect(server.queries).toHaveLength(1);
  });

  it('a deactivated account is still no viewer', async () => {
    const user = await signupUser(server);
    await server.db.orm.em.fork().execute('update profile_account set is_active = false where user_id = ?', [user.id]);
    expect((await server.gql('{ me { id } }', {}, user.token)).body.data.me).toBeNull();
  });
});
