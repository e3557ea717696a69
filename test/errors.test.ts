import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { signupUser, startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

it('masks a database error as INTERNAL_SERVER_ERROR with no SQL, constraint name or stack', async () => {
  const user = await signupUser(server);
  // A real failing statement through the request's own EntityManager fork.
  const spy = vi.spyOn(server.app.services.users, 'findById').mockImplementation(async (em) => {
    await em.execute('insert into users (id, identifier, identifier_key, password) values (?, ?, ?, ?)', [user.id, 'x', 'x', 'x']);
    return null;
  });
  try {
    const res = await server.gql('query($id: ID) { user(id: $id) { id } }', { id: user.id });
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([
      { message: 'Internal server error', locations: [{ line: 1, column: 18 }], path: ['user'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    expect(res.text).not.toMatch(/insert|users_pkey|constraint|duplicate|stack|\.ts:/i);
  } finally {
    spy.mockRestore();
  }
});

it('masks an unexpected exception thrown by code', async () => {
  const spy = vi.spyOn(server.app.services.users, 'findByIdentifier').mockRejectedValue(new Error('secret detail at /srv/app.ts:12'));
  try {
    const res = await server.gql('{ user(identifier: "someone") { id } }');
    expect(res.body.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(res.text).not.toContain('secret detail');
  } finally {
    spy.mockRestore();
  }
});

it('reports a syntax error as a request error without a stack', async () => {
  const res = await server.gql('{ me { id ');
  expect(res.status).toBe(400);
  expect(res.body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  expect(res.text).not.toMatch(/stacktrace|at .*\.js/);
});
