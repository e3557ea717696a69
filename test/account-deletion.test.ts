import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createMigration } from '../src/db/migrations-tasks.ts';
import { freshDatabase, prepareProfileWorkspace, type FreshDatabase, type ProfileWorkspace } from './helpers/fresh-database.ts';
import { GOOD_PASSWORD, LOGIN, signupStaff, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

// Account deletion and export (SPEC §8): one transaction removes the user and everything that
// refers to it; an audit event keeps the id; the export is one versioned JSON document.

const SIGNUP = `mutation($identifier: String!, $password: String!, $email: EmailAddress, $bio: String) {
  signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email }, social: { bio: $bio } } }) { token user { id } }
}`;
const FOLLOW = 'mutation($u: ID!) { follow(userId: $u) }';

/** Rows that name `userId` in any table with a user column (audit events excepted), by table. */
async function rowsNaming(server: TestServer, userId: string): Promise<Record<string, number>> {
  const em = server.db.orm.em.fork();
  const columns = await em.execute<{ table_name: string; column_name: string }[]>(
    `select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and column_name in ('id', 'user_id', 'follower_id', 'followee_id') and table_name <> 'audit_events'
        and (column_name <> 'id' or table_name = 'users')`,
  );
  expect(columns.length).toBeGreaterThanOrEqual(10);
  const found: Record<string, number> = {};
  for (const { table_name, column_name } of columns) {
    const [row] = await em.execute<{ n: string }[]>(`select count(*) as n from "${table_name}" where "${column_name}" = ?`, [userId]);
    if (Number(row!.n) > 0) found[`${table_name}.${column_name}`] = Number(row!.n);
  }
  return found;
}

/** A user with something in every table: profiles, follows both ways, a follow request, sessions, tokens, a group, a grant, mail. */
async function richUser(server: TestServer, admin: { token: string }) {
  const identifier = uniqueIdentifier('gone');
  const email = `${identifier}@example.com`;
  const res = await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD, email, bio: 'Soon gone' });
  expect(res.body.errors, res.text).toBeUndefined();
  const { token, user } = res.body.data.signup as { token: string; user: { id: string } };
  await server.gql(LOGIN, { identifier, password: GOOD_PASSWORD });
  const friend = await signupUser(server);
  const shy = await signupUser(server);
  await server.gql('mutation { updateProfiles(input: { social: { followRequiresConfirmation: true } }) { id } }', {}, shy.token);
  expect((await server.gql(FOLLOW, { u: friend.id }, token)).body.data.follow).toBe('CONFIRMED');
  expect((await server.gql(FOLLOW, { u: user.id }, friend.token)).body.data.follow).toBe('CONFIRMED');
  expect((await server.gql(FOLLOW, { u: shy.id }, token)).body.data.follow).toBe('PENDING');
  const group = await server.gql(
    'mutation($n: String!) { createGroup(name: $n, permissions: ["auth.view_user"]) { id } }',
    { n: uniqueIdentifier('grp') },
    admin.token,
  );
  expect(group.body.errors, group.text).toBeUndefined();
  await server.gql(
    'mutation($u: ID!, $g: [ID!]!) { setUserGroups(userId: $u, groupIds: $g) { id } }',
    { u: user.id, g: [group.body.data.createGroup.id] },
    admin.token,
  );
  await server.gql('mutation($u: ID!) { setUserPermissions(userId: $u, permissions: ["auth.add_user"]) { id } }', { u: user.id }, admin.token);
  await server.gql('mutation($i: String!) { requestPasswordReset(identifier: $i) }', { i: identifier });
  await server.app.services.background.drain();
  await server.app.services.mailer.drain();
  return { identifier, email, token, id: user.id, friend, shy };
}

describe('account deletion and export', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EMAIL_CONFIRMATION: 'optional', MAIL_TRANSPORT: 'outbox', FEDERATION: 'true' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('exportMyData holds the account, every installed profile with private fields, follows, groups, permissions, sessions and events', async () => {
    const { admin } = await signupStaff(server, []);
    const user = await richUser(server, admin);
    const res = await server.gql('{ exportMyData }', {}, user.token);
    expect(res.body.errors, res.text).toBeUndefined();
    const doc = res.body.data.exportMyData;
    expect(doc).toMatchObject({
      format: 'profilegraph.account-export',
      version: 1,
      account: { id: user.id, identifier: user.identifier, hasUsablePassword: true },
    });
    expect(Object.keys(doc.profiles).sort()).toEqual(server.app.services.registry.profiles.map((p) => p.name).sort());
    for (const profile of server.app.services.registry.profiles) {
      expect(Object.keys(doc.profiles[profile.name]).sort()).toEqual(profile.fields.map((f) => f.name).sort());
    }
    expect(doc.profiles.mail.email).toBe(user.email); // private, shown to the owner
    expect(doc.profiles.social.bio).toBe('Soon gone');
    expect(doc.follows.following.map((f: { userId: string; status: string }) => [f.userId, f.status]).sort()).toEqual(
      [
        [user.friend.id, 'CONFIRMED'],
        [user.shy.id, 'PENDING'],
      ].sort(),
    );
    expect(doc.follows.followers.map((f: { userId: string }) => f.userId)).toEqual([user.friend.id]);
    expect(doc.groups).toHaveLength(1);
    expect(doc.permissions).toEqual(expect.arrayContaining(['auth.add_user', 'auth.view_user']));
    expect(doc.sessions).toHaveLength(2);
    expect(JSON.stringify(doc)).not.toContain(user.token);
    expect(doc.auditEvents.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['user.signup', 'auth.login']));

    expect((await server.gql('{ exportMyData }')).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const stranger = await signupUser(server);
    const refused = await server.gql('query($u: ID!) { exportUserData(userId: $u) }', { u: user.id }, stranger.token);
    expect(refused.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const { staff } = await signupStaff(server, ['auth.view_user']);
    const byStaff = await server.gql('query($u: ID!) { exportUserData(userId: $u) }', { u: user.id }, staff.token);
    expect(byStaff.body.errors, byStaff.text).toBeUndefined();
    expect(byStaff.body.data.exportUserData.profiles.mail.email).toBe(user.email);
  });

  it('deleteAccount needs the password, then leaves no row of the user in any table but the audit trail', async () => {
    const { admin } = await signupStaff(server, []);
    const user = await richUser(server, admin);
    const before = await rowsNaming(server, user.id);
    for (const table of [
      'users.id',
      'sessions.user_id',
      'profile_mail.user_id',
      'follows.follower_id',
      'follows.followee_id',
      'user_groups.user_id',
      'user_permissions.user_id',
      'user_tokens.user_id',
    ]) {
      expect(before[table], table).toBeGreaterThan(0);
    }
    const outbox = () =>
      server.db.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from mail_outbox where lower(recipient) = lower(?)', [user.email]);
    expect(Number((await outbox())[0]!.n)).toBeGreaterThan(0);

    const wrong = await server.gql('mutation { deleteAccount(password: "not the password at all") }', {}, user.token);
    expect(wrong.body.errors[0].extensions.code).toBe('INVALID_CREDENTIALS');
    expect(await rowsNaming(server, user.id)).toEqual(before);

    const deleted = await server.gql('mutation($p: String!) { deleteAccount(password: $p) }', { p: GOOD_PASSWORD }, user.token);
    expect(deleted.body.errors, deleted.text).toBeUndefined();
    expect(deleted.body.data.deleteAccount).toBe(true);
    expect(await rowsNaming(server, user.id)).toEqual({});
    expect(Number((await outbox())[0]!.n)).toBe(0);

    // The id answers null everywhere; the token is dead; the others' counts dropped it.
    expect((await server.gql('query($id: ID!) { user(id: $id) { id } }', { id: user.id })).body.data.user).toBeNull();
    expect((await server.gql('query($ids: [ID!]!) { _usersByIds(ids: $ids) { id } }', { ids: [user.id] })).body.data._usersByIds).toEqual([null]);
    const entities = await server.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }', {
      r: [{ __typename: 'User', id: user.id }],
    });
    expect(entities.body.data._entities).toEqual([null]);
    expect((await server.gql('{ me { id } }', {}, user.token)).body.data.me).toBeNull();
    expect((await server.gql('query($id: ID!) { user(id: $id) { followersCount } }', { id: user.friend.id })).body.data.user.followersCount).toBe(0);

    // The audit trail keeps the id and who deleted it, and no longer names the user.
    const events = await server.db.orm.em
      .fork()
      .execute<{ type: string; actor_id: string | null; data: Record<string, unknown> }[]>(
        'select type, actor_id, data from audit_events where subject_id = ? order by id',
        [user.id],
      );
    expect(events.at(-1)).toMatchObject({ type: 'account.deleted', data: { by: 'owner' } });
    expect(String(events.at(-1)!.actor_id)).toBe(user.id);
    expect(JSON.stringify(events)).not.toContain(user.identifier);
    expect(JSON.stringify(events)).not.toContain(user.email);
    // The identifier is free again.
    expect((await server.gql(SIGNUP, { identifier: user.identifier, password: GOOD_PASSWORD })).body.errors).toBeUndefined();
  });

  it('deleteUser takes auth.delete_user, refuses one’s own account, and a superuser’s needs a superuser', async () => {
    const target = await signupUser(server);
    const { staff: plain } = await signupStaff(server, []);
    expect((await server.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: target.id }, plain.token)).body.errors[0].extensions.code).toBe('FORBIDDEN');
    const anonymous = await server.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: target.id });
    expect(anonymous.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');

    const { admin, staff: deleter } = await signupStaff(server, ['auth.delete_user']);
    expect((await server.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: deleter.id }, deleter.token)).body.errors[0].extensions.code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await server.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: admin.id }, deleter.token)).body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await server.gql('mutation { deleteUser(userId: "999999999") }', {}, deleter.token)).body.errors[0].extensions.code).toBe('NOT_FOUND');

    const done = await server.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: target.id }, deleter.token);
    expect(done.body.errors, done.text).toBeUndefined();
    expect(await rowsNaming(server, target.id)).toEqual({});
    const [event] = await server.db.orm.em
      .fork()
      .execute<{ actor_id: string; data: unknown }[]>("select actor_id, data from audit_events where type = 'account.deleted' and subject_id = ?", [target.id]);
    expect(String(event!.actor_id)).toBe(deleter.id);
    expect(event!.data).toEqual({ by: 'staff' });
    // Deleting twice: the user is gone.
    expect((await server.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: target.id }, deleter.token)).body.errors[0].extensions.code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('@profile(onDelete: ANONYMIZE)', () => {
  let workspace: ProfileWorkspace;
  let fresh: FreshDatabase;
  let server: TestServer | undefined;

  beforeAll(async () => {
    workspace = prepareProfileWorkspace();
    fresh = await freshDatabase();
    const env = {
      DATABASE_URL: fresh.url,
      PROFILES_DIR: workspace.profilesDir,
      MIGRATIONS_DIR: workspace.migrationsDir,
      MIGRATE_ON_START: 'true',
      DATABASE_POOL_MAX: fresh.embedded ? '1' : '5',
    };
    writeFileSync(
      join(workspace.profilesDir, 'survey.graphql'),
      `"Answers kept for statistics when an account goes."
      type SurveyProfile @profile(name: "survey", onDelete: ANONYMIZE) {
        country: String
        "Private: never kept."
        phone: String @private
        "Unique: never kept."
        handle: String @unique
      }`,
    );
    await createMigration(loadConfig(env), { name: 'survey' });
    server = await startTestServer(env);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await fresh?.drop();
    workspace?.remove();
  });

  it('keeps the non-private, non-unique values without any link to the account, and deletes the row', async () => {
    const srv = server!;
    const user = await signupUser(srv);
    const written = await srv.gql(
      'mutation { updateProfiles(input: { survey: { country: "NZ", phone: "+64 21 000", handle: "kiwi" } }) { id } }',
      {},
      user.token,
    );
    expect(written.body.errors, written.text).toBeUndefined();
    const deleted = await srv.gql('mutation($p: String!) { deleteAccount(password: $p) }', { p: GOOD_PASSWORD }, user.token);
    expect(deleted.body.errors, deleted.text).toBeUndefined();
    expect(await rowsNaming(srv, user.id)).toEqual({});
    const kept = await srv.db.orm.em.fork().execute<{ profile: string; data: Record<string, unknown> }[]>('select profile, data from deleted_profile_rows');
    expect(kept).toEqual([{ profile: 'survey', data: { country: 'NZ' } }]);
  });
});
