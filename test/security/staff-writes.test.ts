import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GOOD_PASSWORD, signupUser, startTestServer, uniqueIdentifier, type TestServer } from '../helpers/server.ts';

// Writing another user's profiles (SPEC §8): staff status alone is not enough, it takes the
// permission `auth.change_user`; a superuser's profiles take a superuser; the old reset
// address hears of a staff change; ids name a user in any spelling, so a leading zero is
// neither a bypass of the owner's checks nor an internal error.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ EMAIL_CONFIRMATION: 'none' });
});
afterAll(async () => {
  await server?.close();
});

const address = () => `${uniqueIdentifier('staffw')}@example.com`;
const SIGNUP = `mutation($identifier: String!, $password: String!, $email: EmailAddress) {
  signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) { token user { id identifier } }
}`;
const UPDATE = `mutation($u: ID, $email: EmailAddress, $pw: String) {
  updateProfiles(userId: $u, input: { mail: { email: $email } }, currentPassword: $pw) { id mail { email } }
}`;
const SET = `mutation($u: ID, $v: JSON) { setData(userId: $u, key: "mail.email", value: $v) { id mail { email } } }`;

async function flags(userId: string, set: string) {
  await server.db.orm.em.fork().execute(`update profile_account set ${set} where user_id = ?`, [userId]);
}

async function withEmail() {
  const email = address();
  const res = await server.gql(SIGNUP, { identifier: uniqueIdentifier('staffw'), password: GOOD_PASSWORD, email });
  const { token, user } = res.body.data.signup as { token: string; user: { id: string; identifier: string } };
  return { token, id: user.id, identifier: user.identifier, email };
}

async function emailOf(userId: string): Promise<string | null> {
  const [row] = await server.db.orm.em.fork().execute<{ email: string | null }[]>('select email from profile_mail where user_id = ?', [userId]);
  return row?.email ?? null;
}

async function outbox(recipient: string, template: string) {
  return server.db.orm.em
    .fork()
    .execute<{ text_body: string }[]>('select text_body from mail_outbox where recipient = ? and template = ?', [recipient, template]);
}

async function staffWithChangeUser() {
  const admin = await signupUser(server);
  await flags(admin.id, 'is_staff = true, is_superuser = true');
  const staff = await signupUser(server);
  await flags(staff.id, 'is_staff = true');
  const granted = await server.gql(
    'mutation($u: ID!) { setUserPermissions(userId: $u, permissions: ["auth.change_user"]) { id } }',
    { u: staff.id },
    admin.token,
  );
  expect(granted.body.errors, granted.text).toBeUndefined();
  return { admin, staff };
}

describe("writing another user's profiles", () => {
  it('refuses staff without auth.change_user, on updateProfiles and setData, and changes nothing', async () => {
    const victim = await withEmail();
    const staff = await signupUser(server);
    await flags(staff.id, 'is_staff = true');
    for (const [query, vars] of [
      [UPDATE, { u: victim.id, email: address() }],
      [SET, { u: victim.id, v: address() }],
    ] as const) {
      const res = await server.gql(query, vars, staff.token);
      expect(res.body.errors?.[0].extensions, res.text).toMatchObject({ code: 'FORBIDDEN', permission: 'auth.change_user' });
    }
    expect(await emailOf(victim.id)).toBe(victim.email);
  });

  it('lets staff with auth.change_user change it, and mails the old address that it was changed', async () => {
    const victim = await withEmail();
    const { staff } = await staffWithChangeUser();
    const next = address();
    const res = await server.gql(UPDATE, { u: victim.id, email: next }, staff.token);
    expect(res.body.data?.updateProfiles, res.text).toEqual({ id: victim.id, mail: { email: next } });
    // The mailer sends after the commit, in the background.
    const notices = await vi.waitFor(async () => {
      const rows = await outbox(victim.email, 'emailChanged');
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(notices[0]!.text_body).toContain(next);

    const again = address();
    const set = await server.gql(SET, { u: victim.id, v: again }, staff.token);
    expect(set.body.data?.setData.mail.email, set.text).toBe(again);
    await vi.waitFor(async () => expect(await outbox(next, 'emailChanged')).toHaveLength(1));
  });

  it("keeps a superuser's profiles to superusers", async () => {
    const { admin, staff } = await staffWithChangeUser();
    const refused = await server.gql(UPDATE, { u: admin.id, email: address() }, staff.token);
    expect(refused.body.errors?.[0].extensions.code, refused.text).toBe('FORBIDDEN');
    expect(refused.body.errors[0].message).toMatch(/superuser/);

    const other = await signupUser(server);
    await flags(other.id, 'is_staff = true, is_superuser = true');
    const next = address();
    const allowed = await server.gql(UPDATE, { u: admin.id, email: next }, other.token);
    expect(allowed.body.data?.updateProfiles.mail.email, allowed.text).toBe(next);
  });
});

describe('ids in any spelling', () => {
  it("treats the owner's own id with leading zeros as the owner: the reset-address check still applies", async () => {
    const owner = await withEmail();
    // A fresh login does not need the current password; age the session instead of waiting
    // (the check reads its creation time).
    await server.db.orm.em.fork().execute("update sessions set created_at = now() - interval '1 hour' where user_id = ?", [owner.id]);
    const res = await server.gql(UPDATE, { u: `00${owner.id}`, email: address() }, owner.token);
    expect(res.body.errors?.[0].extensions, res.text).toMatchObject({ code: 'FORBIDDEN', reason: 'CURRENT_PASSWORD_REQUIRED' });
    expect(await emailOf(owner.id)).toBe(owner.email);
  });

  it('follows, reads and batches by an id with leading zeros like by the id itself; out-of-range ids are bad input', async () => {
    const [a, b] = await Promise.all([signupUser(server), signupUser(server)]);
    const follow = await server.gql('mutation($u: ID!) { follow(userId: $u) }', { u: `0${b.id}` }, a.token);
    expect(follow.body.errors, follow.text).toBeUndefined();
    const read = await server.gql('query($u: ID!) { user(id: $u) { id } _usersByIds(ids: [$u]) { id } }', { u: `000${b.id}` });
    expect(read.body.data).toEqual({ user: { id: b.id }, _usersByIds: [{ id: b.id }] });
    const tooBig = await server.gql('mutation { follow(userId: "9999999999999999999") }', {}, a.token);
    expect(tooBig.body.errors?.[0].extensions.code, tooBig.text).toBe('BAD_USER_INPUT');
  });
});
