import { describe, expect, it } from 'vitest';
import { ME, signupUser, startTestServer, uniqueIdentifier } from './helpers/server.ts';

describe('trusted-header authentication', () => {
  it('authenticates the header identity from a configured proxy address, and creates users when asked to', async () => {
    const server = await startTestServer({ TRUSTED_HEADER: 'X-Remote-User', TRUSTED_PROXIES: '127.0.0.1/8, ::1', TRUSTED_HEADER_CREATE_USERS: 'true' });
    try {
      const user = await signupUser(server);
      const me = await server.gql(ME, {}, undefined, { 'x-remote-user': user.identifier.toUpperCase() });
      expect(me.body.data.me).toMatchObject({ id: user.id, identifier: user.identifier });

      const newcomer = uniqueIdentifier('sso');
      const created = await server.gql(ME, {}, undefined, { 'x-remote-user': newcomer });
      expect(created.body.data.me).toMatchObject({ identifier: newcomer, hasUsablePassword: false });
      const again = await server.gql(ME, {}, undefined, { 'x-remote-user': newcomer });
      expect(again.body.data.me.id).toBe(created.body.data.me.id);

      // A bearer token takes precedence; the header does not override an explicit session.
      const other = await signupUser(server);
      const both = await server.gql(ME, {}, other.token, { 'x-remote-user': user.identifier });
      expect(both.body.data.me.id).toBe(other.id);
    } finally {
      await server.close();
    }
  });

  it('is refused from any other address, and off by default', async () => {
    const elsewhere = await startTestServer({ TRUSTED_HEADER: 'x-remote-user', TRUSTED_PROXIES: '10.20.30.40', TRUSTED_PROXY: 'true' });
    try {
      const user = await signupUser(elsewhere);
      const spoofed = await elsewhere.gql(ME, {}, undefined, { 'x-remote-user': user.identifier, 'x-forwarded-for': '10.20.30.40' });
      expect(spoofed.body.data.me).toBeNull();
    } finally {
      await elsewhere.close();
    }
    const off = await startTestServer();
    try {
      const user = await signupUser(off);
      expect((await off.gql(ME, {}, undefined, { 'x-remote-user': user.identifier })).body.data.me).toBeNull();
    } finally {
      await off.close();
    }
  });

  it('does not authenticate inactive accounts and does not create users unless configured', async () => {
    const server = await startTestServer({ TRUSTED_HEADER: 'x-remote-user', TRUSTED_PROXIES: '127.0.0.1,::1' });
    try {
      const user = await signupUser(server);
      await server.db.orm.em.fork().execute('update profile_account set is_active = false where user_id = ?', [user.id]);
      expect((await server.gql(ME, {}, undefined, { 'x-remote-user': user.identifier })).body.data.me).toBeNull();
      expect((await server.gql(ME, {}, undefined, { 'x-remote-user': uniqueIdentifier('ghost') })).body.data.me).toBeNull();
    } finally {
      await server.close();
    }
  });
});
