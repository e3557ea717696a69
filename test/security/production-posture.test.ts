import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ormOptions } from '../../src/db/orm.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Issue 10, finding 7: production posture. No schema suggestions, `_sdl` only for gateways
// holding the composition token while introspection is off, a 100 KB body limit, stalled
// requests dropped, a statement timeout — and a pinned production configuration.

const COMPOSITION_TOKEN = 'posture-test-composition-token-0123456789abcdef';

describe('the production configuration', () => {
  const config = loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://app@db.internal:5432/profilegraph',
    MAIL_TRANSPORT: 'smtp',
    SMTP_URL: 'smtp://mail.internal:25',
    SECRETS_KEY: 'b2'.repeat(32),
  });

  it('keeps every limit of issue 10 (loosening one fails here)', () => {
    expect({
      introspection: config.http.introspection,
      playground: config.http.playground,
      compositionToken: config.http.compositionToken,
      bodyLimitBytes: config.http.bodyLimitBytes,
      requestTimeoutMs: config.http.requestTimeoutMs,
      statementTimeoutMs: config.database.statementTimeoutMs,
    }).toMatchInlineSnapshot(`
      {
        "bodyLimitBytes": 102400,
        "compositionToken": undefined,
        "introspection": false,
        "playground": false,
        "requestTimeoutMs": 30000,
        "statementTimeoutMs": 5000,
      }
    `);
  });

  it('hands the statement timeout to every PostgreSQL connection, but not to migrations', () => {
    expect(ormOptions(config, config.database.url!).driverOptions).toEqual({ statement_timeout: 5000 });
    expect(ormOptions(config, config.database.url!, { statementTimeout: false }).driverOptions).toBeUndefined();
  });

  it('refuses a composition token short enough to guess', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', COMPOSITION_TOKEN: 'short' })).toThrow(/COMPOSITION_TOKEN/);
  });
});

describe('a server with introspection off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ INTROSPECTION: 'false', COMPOSITION_TOKEN });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('gives no "Did you mean …" suggestions', async () => {
    const res = await server.gql('{ mee { id } users(first: 1) { totalCont } }');
    expect(res.status).toBe(400);
    expect(res.body.errors.length).toBeGreaterThan(0);
    for (const error of res.body.errors) expect(error.message).not.toMatch(/did you mean/i);
    // Variable values are checked against the schema at execution: no suggestions there either.
    const coerced = await server.gql('query($o: [UserOrder!], $w: UserWhere) { users(first: 1, orderBy: $o, where: $w) { totalCount } }', {
      o: [{ field: 'identifier', direction: 'ASCC' }],
      w: { identifer: { eq: 'x' } },
    });
    expect(coerced.status).toBe(400);
    for (const error of coerced.body.errors) expect(error.message).not.toMatch(/did you mean/i);
  });

  // The embedded PGlite ignores startup parameters (see ormOptions); the real server must apply it.
  it.runIf(inject('databaseUrl'))('runs every statement under the statement timeout (real PostgreSQL)', async () => {
    const [row] = await server.db.orm.em.fork().execute<{ statement_timeout: string }[]>('show statement_timeout');
    expect(row!.statement_timeout).toBe('5s');
    await expect(server.db.orm.em.fork().execute('select pg_sleep(6)')).rejects.toThrow(/statement timeout/);
  });

  it('answers _sdl only with the composition token', async () => {
    const anonymous = await server.gql('{ _sdl }');
    expect(anonymous.body.data).toBeNull();
    expect(anonymous.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(anonymous.text).not.toContain('setUserFlags');

    const wrong = await server.gql('{ _sdl }', undefined, undefined, { 'x-composition-token': `${COMPOSITION_TOKEN}x` });
    expect(wrong.body.errors[0].extensions.code).toBe('FORBIDDEN');

    const gateway = await server.gql('{ _sdl }', undefined, undefined, { 'x-composition-token': COMPOSITION_TOKEN });
    expect(gateway.body.errors).toBeUndefined();
    expect(gateway.body.data._sdl).toContain('setUserFlags');
  });
});

describe('a server with introspection on (development)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ INTROSPECTION: 'true', REQUEST_TIMEOUT_SECONDS: '1' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves _sdl to anyone and keeps the suggestions', async () => {
    const res = await server.gql('{ _sdl }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data._sdl).toContain('type Query');
    expect((await server.gql('{ mee { id } }')).body.errors[0].message).toMatch(/Did you mean "me"\?/);
  });

  it('refuses bodies over 100 KB by default', async () => {
    expect(server.config.http.bodyLimitBytes).toBe(102_400);
    const padding = 'x'.repeat(110 * 1024);
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', variables: { padding } }),
    });
    expect(response.status).toBe(413);
  });

  it('drops a request stalled mid-body within the request timeout', async () => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    let received = '';
    socket.on('data', (chunk: Buffer) => void (received += chunk.toString('utf8')));
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
    socket.on('error', () => undefined);
    socket.write(['POST /graphql HTTP/1.1', `Host: 127.0.0.1`, 'Content-Type: application/json', 'Content-Length: 1000', '', '{"query":"{ __typ'].join('\r\n'));
    const timeout = new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 8000).unref());
    const outcome = await Promise.race([closed, timeout]);
    socket.destroy();
    expect(outcome).not.toBe('still open');
    // One second of timeout plus at most one second until Node's next deadline check.
    expect(outcome as number).toBeLessThan(4000);
    expect(received).not.toContain('200 OK');
  });
});
