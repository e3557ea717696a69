import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../src/modules/events/events.ts';
import { LOGIN, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const flag = (userId: string, column: 'is_staff' | 'is_superuser' | 'is_active', value: boolean) =>
  server.db.orm.em.fork().execute(`update profile_account set ${column} = ? where user_id = ?`, [value, userId]);

async function superuser() {
  const user = await signupUser(server);
  await flag(user.id, 'is_staff', true);
  await flag(user.id, 'is_superuser', true);
  return user;
}

const PERMS = `query($id: ID, $perm: String!) { user(id: $id) { permissions hasPerm(perm: $perm) groups { name } } }`;

describe('groups and permissions', () => {
  it('answers hasPerm as Django does for a superuser, a group member, a direct grant and an inactive user', async () => {
    const admin = await superuser();
    const tag = uniqueIdentifier('g').replace(/-/g, '_');
    const perm = `blog.publish_${tag}`;
    const created = await server.gql(
      'mutation($k: String!) { createPermission(key: $k, name: "Can publish") { key appLabel codename } }',
      { k: perm },
      admin.token,
    );
    expect(created.body.data.createPermission).toEqual({ key: perm, appLabel: 'blog', codename: `publish_${tag}` });
    const group = await server.gql(
      'mutation($n: String!, $p: [String!]) { createGroup(name: $n, permissions: $p) { id name permissions { key } } }',
      { n: `editors ${tag}`, p: [perm] },
      admin.token,
    );
    expect(group.body.data.createGroup.permissions).toEqual([{ key: perm }]);

    const [member, direct, inactive, plain] = await Promise.all([signupUser(server), signupUser(server), signupUser(server), signupUser(server)]);
    await server.gql(
      'mutation($u: ID!, $g: [ID!]!) { setUserGroups(userId: $u, groupIds: $g) { id } }',
      { u: member.id, g: [group.body.data.createGroup.id] },
      admin.token,
    );
    await server.gql('mutation($u: ID!, $p: [String!]!) { setUserPermissions(userId: $u, permissions: $p) { id } }', { u: direct.id, p: [perm] }, admin.token);
    await server.gql(
      'mutation($u: ID!, $p: [String!]!) { setUserPermissions(userId: $u, permissions: $p) { id } }',
      { u: inactive.id, p: [perm] },
      admin.token,
    );
    await server.gql('mutation($u: ID!) { setUserFlags(userId: $u, flags: { isActive: false }) { id } }', { u: inactive.id }, admin.token);

    const check = async (user: { id: string }) => (await server.gql(PERMS, { id: user.id, perm }, admin.token)).body.data.user;
    expect(await check(admin)).toMatchObject({ hasPerm: true, permissions: expect.arrayContaining([perm, 'auth.change_user']) });
    expect(await check(member)).toEqual({ hasPerm: true, permissions: [perm], groups: [{ name: `editors ${tag}` }] });
    expect(await check(direct)).toEqual({ hasPerm: true, permissions: [perm], groups: [] });
    expect(await check(inactive)).toEqual({ hasPerm: false, permissions: [], groups: [] });
    expect(await check(plain)).toEqual({ hasPerm: false, permissions: [], groups: [] });

    await flag(admin.id, 'is_active', false);
    expect((await server.gql(PERMS, { id: admin.id, perm }, member.token)).body.data.user.hasPerm).toBeNull();
    await flag(admin.id, 'is_active', true);
  });

  it('shows groups and permissions to the user and staff only', async () => {
    const [user, stranger] = await Promise.all([signupUser(server), signupUser(server)]);
    const own = await server.gql(PERMS, { id: user.id, perm: 'auth.view_user' }, user.token);
    expect(own.body.data.user).toEqual({ permissions: [], hasPerm: false, groups: [] });
    const other = await server.gql(PERMS, { id: user.id, perm: 'auth.view_user' }, stranger.token);
    expect(other.body.data.user).toEqual({ permissions: null, hasPerm: null, groups: null });
  });

  it('keeps administration to staff holding the permission, and isSuperuser to superusers', async () => {
    const [staff, target] = await Promise.all([signupUser(server), signupUser(server)]);
    await flag(staff.id, 'is_staff', true);
    const denied = await server.gql('mutation { createGroup(name: "nope") { id } }', {}, staff.token);
    expect(denied.body.errors[0].extensions).toEqual({ code: 'FORBIDDEN', permission: 'auth.add_group' });

    const admin = await superuser();
    await server.gql(
      'mutation($u: ID!, $p: [String!]!) { setUserPermissions(userId: $u, permissions: $p) { id } }',
      { u: staff.id, p: ['auth.change_user'] },
      admin.token,
    );
    const ok = await server.gql(
      'mutation($u: ID!) { setUserFlags(userId: $u, flags: { isStaff: true }) { account { isStaff } } }',
      { u: target.id },
      staff.token,
    );
    expect(ok.body.data.setUserFlags.account.isStaff).toBe(true);
    const escalate = await server.gql('mutation($u: ID!) { setUserFlags(userId: $u, flags: { isSuperuser: true }) { id } }', { u: staff.id }, staff.token);
    expect(escalate.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const viaBag = await server.gql('mutation { setData(key: "isSuperuser", value: true) { id } }', {}, staff.token);
    expect(viaBag.body.errors[0].extensions.code).toBe('FORBIDDEN');

    const unknown = await server.gql(
      'mutation($u: ID!) { setUserPermissions(userId: $u, permissions: ["no.such_perm"]) { id } }',
      { u: target.id },
      admin.token,
    );
    expect(unknown.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('events and the audit trail', () => {
  it('stores typed events staff can page through, without passwords, and hands them to subscribers', async () => {
    const seen: RecordedEvent[] = [];
    const unsubscribe = server.app.services.events.on('*', (event) => void seen.push(event));
    try {
      const user = await signupUser(server);
      await server.gql(LOGIN, { identifier: user.identifier, password: 'not the right password 1' });
      await server.gql(LOGIN, { identifier: user.identifier, password: user.password });
      const other = await signupUser(server);
      await server.gql('mutation($id: ID!) { follow(userId: $id) }', { id: other.id }, user.token);

      const types = seen.filter((e) => e.subjectId === user.id || e.actorId === user.id).map((e) => e.type);
      expect(types.filter((t) => t !== 'profile.changed')).toEqual(['user.signup', 'auth.login_failed', 'auth.login', 'follow.changed']);
      // Signup wrote values (the dateJoined stamp at least): profile.changed events naming the keys.
      const changes = seen.filter((e) => e.subjectId === user.id && e.type === 'profile.changed');
      expect(changes.length).toBeGreaterThanOrEqual(1);
      for (const change of changes) expect((change.data as { keys: string[] }).keys.length).toBeGreaterThan(0);

      const admin = await superuser();
      const trail = await server.gql(
        'query($u: ID) { auditEvents(userId: $u, first: 10) { edges { node { type actorId subjectId data } } pageInfo { hasNextPage } } }',
        { u: user.id },
        admin.token,
      );
      const nodes = trail.body.data.auditEvents.edges.map((e: any) => e.node).filter((n: any) => n.type !== 'profile.changed');
      expect(nodes.map((n: any) => n.type)).toEqual(['follow.changed', 'auth.login', 'auth.login_failed', 'user.signup']);
      expect(nodes[2].data).toEqual({ identifier: user.identifier, reason: 'invalid_credentials' });
      expect(JSON.stringify(nodes)).not.toContain('not the right password');

      const denied = await server.gql('{ auditEvents { edges { node { id } } } }', {}, user.token);
      expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    } finally {
      unsubscribe();
    }
  });
});
