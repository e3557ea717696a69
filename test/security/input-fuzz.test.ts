import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupUser, startTestServer, type GqlResponse, type TestServer } from '../helpers/server.ts';

// Issue 10, finding 6: input hygiene in one place. Whatever text arrives — as a variable or as
// a literal in the document, in an identifier, a password, a profile input, a bag key, an
// `orderBy` field or a `contains` filter — the answer is never an HTTP 5xx nor
// INTERNAL_SERVER_ERROR; text PostgreSQL cannot hold (NUL, lone surrogates) is BAD_USER_INPUT.

const RUNS = 200;

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer({ LOGIN_MAX_FAILURES_PER_IDENTIFIER: '100000' });
  ({ token } = await signupUser(server));
});
afterAll(async () => {
  await server?.close();
});

/** Text PostgreSQL refuses or cannot encode: a NUL, or a UTF-16 surrogate outside a pair. */
const unstorable = (s: string) => s.includes('\u0000') || /\p{Cs}/u.test(s);

const awkward = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '\ude00\ud83d',
  '\ud83d\ude00',
  "'",
  '"',
  '\\',
  '%',
  '_',
  '*',
  ';--',
  '\n',
  '\r\n',
  '\t',
  '\u0085',
  '\u2028',
  '\u202e',
  '\ufeff',
  '\uffff',
  '\u{10ffff}',
  'mail.email',
  'social.bio',
  '.',
  '',
);
/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Short text mixing arbitrary code points, arbitrary code units and known-awkward pieces. */
const text = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: codeUnit, maxLength: 6 }), awkward), { maxLength: 4 })
  .map((pieces) => pieces.join(''));
/** How the text reaches the server: bound as a variable, or written as a literal into the document. */
const transport = fc.constantFrom('variable', 'literal');

/** Builds `query|mutation ($v: T, …) { … }` or the same with the literal in place of `$v`. */
function operation(kind: 'query' | 'mutation', variables: string, body: string) {
  return { variable: `${kind} (${variables}) ${body}`, literal: `${kind} ${body}` };
}

function assertSafe(res: GqlResponse, value: string, how: string) {
  const codes: string[] = (res.body.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);
  const context = `${how} ${JSON.stringify(value)} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(codes, context).not.toContain('INTERNAL_SERVER_ERROR');
  if (unstorable(value) && how === 'variable') {
    expect(codes, context).toEqual(['BAD_USER_INPUT']);
    expect(res.status, context).toBe(400);
  }
  // A literal lone surrogate is a GraphQL syntax error (graphql-js checks `\u` escapes); a NUL is ours to refuse.
  if (unstorable(value) && how === 'literal') expect(codes, context).toEqual([/\p{Cs}/u.test(value) ? 'GRAPHQL_PARSE_FAILED' : 'BAD_USER_INPUT']);
}

async function check(kind: 'query' | 'mutation', variables: string, body: string, value: string, how: string, auth?: string) {
  const op = operation(kind, variables, body);
  const res =
    how === 'variable' ? await server.gql(op.variable, { v: value }, auth) : await server.gql(op.literal.replaceAll('$v', JSON.stringify(value)), {}, auth);
  assertSafe(res, value, how);
}

describe('input hygiene (property tests)', () => {
  it('login: identifiers and passwords', { timeout: 180_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(text, text, transport, async (identifier, password, how) => {
        // One text travels as chosen; the other as a variable, so both fields are exercised.
        const res =
          how === 'variable'
            ? await server.gql('mutation ($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }', { i: identifier, p: password })
            : await server.gql(`mutation ($p: String!) { login(identifier: ${JSON.stringify(identifier)}, password: $p) { token } }`, { p: password });
        const codes: string[] = (res.body.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);
        const context = `${how} ${JSON.stringify([identifier, password])} → ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, context).toBeLessThan(500);
        expect(codes, context).not.toContain('INTERNAL_SERVER_ERROR');
        if (identifier.includes('\u0000') || (how === 'variable' && unstorable(identifier)) || unstorable(password)) {
          expect(codes, context).toEqual([expect.stringMatching(/^(BAD_USER_INPUT|GRAPHQL_PARSE_FAILED)$/)]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('user(identifier:) and identifier filters', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(text, transport, async (value, how) => {
        await check('query', '$v: String', '{ user(identifier: $v) { id } }', value, how);
        await check('query', '$v: String', '{ users(first: 1, where: { identifier: { contains: $v } }) { totalCount } }', value, how);
      }),
      { numRuns: RUNS },
    );
  });

  it('profile inputs: updateProfiles and setData', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(text, transport, async (value, how) => {
        await check('mutation', '$v: String', '{ updateProfiles(input: { social: { bio: $v } }) { id } }', value, how, token);
        await check('mutation', '$v: String', '{ updateProfiles(input: { account: { firstName: $v } }) { id } }', value, how, token);
        if (how === 'variable') {
          const res = await server.gql('mutation ($v: JSON) { setData(key: "social.bio", value: $v) { id } }', { v: value }, token);
          assertSafe(res, value, how);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('bag keys: data(key:) and data filters', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(text, transport, async (value, how) => {
        await check('query', '$v: String!', '{ me { data(key: $v) } }', value, how, token);
        await check('query', '$v: String!', '{ users(first: 1, where: { data: [{ key: $v, isNull: false }] }) { totalCount } }', value, how, token);
        await check('query', '$v: String', '{ users(first: 1, where: { data: [{ key: "social.bio", contains: $v }] }) { totalCount } }', value, how, token);
      }),
      { numRuns: RUNS },
    );
  });

  it('orderBy fields', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(text, transport, async (value, how) => {
        await check('query', '$v: String!', '{ users(first: 2, orderBy: [{ field: $v }]) { totalCount edges { node { id } } } }', value, how, token);
      }),
      { numRuns: RUNS },
    );
  });

  it('JSON values: object keys and nested strings are checked too, and the error names the input path', async () => {
    const res = await server.gql('mutation ($v: JSON) { setData(key: "social.bio", value: $v) { id } }', { v: { ['k\u0000']: ['x'] } }, token);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', fields: { 'value.k\u0000': expect.any(String) } });
    const nested = await server.gql('mutation ($b: String) { updateProfiles(input: { social: { bio: $b } }) { id } }', { b: 'a\ud800' }, token);
    expect(nested.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', fields: { 'input.social.bio': expect.any(String) } });
    const literal = await server.gql(
      '{ users(first: 1, where: { OR: [{ identifier: { eq: "x" } }, { identifier: { contains: "\\u0000" } }] }) { totalCount } }',
    );
    expect(literal.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', fields: { 'where.OR.1.identifier.contains': expect.any(String) } });
  });
});
