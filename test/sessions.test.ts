import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Clock } from '../src/clock.ts';
import { ME, signupUser, startTestServer, type TestServer } from './helpers/server.ts';

/** A clock the test moves by hand. */
class ManualClock implements Clock {
  private current = Date.now();
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current += ms;
  }
}

const clock = new ManualClock();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SESSION_IDLE_TIMEOUT_SECONDS: '600', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '1800' }, { clock });
});
afterAll(async () => {
  await server?.close();
});

it('ends a session after the idle timeout without requests', async () => {
  const user = await signupUser(server);
  clock.advance(9 * 60_000);
  expect((await server.gql(ME, {}, user.token)).body.data.me.id).toBe(user.id);
  clock.advance(9 * 60_000); // activity 9 minutes ago refreshed it
  expect((await server.gql(ME, {}, user.token)).body.data.me.id).toBe(user.id);
  clock.advance(11 * 60_000);
  expect((await server.gql(ME, {}, user.token)).body.data.me).toBeNull();
});

it('ends an active session at the absolute timeout', async () => {
  const user = await signupUser(server);
  for (let i = 0; i < 3; i++) {
    clock.advance(9 * 60_000);
    expect((await server.gql(ME, {}, user.token)).body.data.me?.id).toBe(user.id);
  }
  clock.advance(4 * 60_000); // 31 minutes after signup
  expect((await server.gql(ME, {}, user.token)).body.data.me).toBeNull();
});

it('stores only the SHA-256 of tokens', async () => {
  const user = await signupUser(server);
  const rows = await server.db.orm.em
    .fork()
    .execute<{ token_hash: Buffer }[]>('select token_hash from sessions s join users u on u.id = s.user_id where u.id = ?', [user.id]);
  expect(rows).toHaveLength(1);
  const { createHash } = await import('node:crypto');
  expect(Buffer.from(rows[0]!.token_hash).equals(createHash('sha256').update(user.token).digest())).toBe(true);
});
