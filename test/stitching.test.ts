import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { stitchSchemas } from '@graphql-tools/stitch';
import { stitchingDirectives } from '@graphql-tools/stitching-directives';
import { printSchemaWithDirectives, type Executor } from '@graphql-tools/utils';
// Only AST helpers from 'graphql' here: vitest resolves it to its ESM build while the
// externalised packages use the CommonJS one, and schemas must not cross the two.
import { parse, print, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupUser, signupWithEmail as signupWithEmailOn, startTestServer, type TestServer } from './helpers/server.ts';

/**
 * SPEC §5, schema stitching: this service (introspection off, as in production) and a small
 * "posts" service behind a `@graphql-tools/stitch` gateway that reads each service's `_sdl`,
 * merges `User` through `_usersByIds`, and forwards the caller's `Authorization` header.
 */

interface GatewayContext {
  authorization?: string;
}

const { allStitchingDirectivesTypeDefs, stitchingDirectivesTransformer } = stitchingDirectives();

/** The posts service: owns `Post`, adds `User.posts`, merges `User` by id. */
function postsSchema(posts: { id: string; title: string; authorId: string }[]): GraphQLSchema {
  const typeDefs = /* GraphQL */ `
    ${allStitchingDirectivesTypeDefs}
    type Post {
      id: ID!
      title: String!
      author: User!
    }
    type User @key(selectionSet: "{ id }") {
      id: ID!
      posts: [Post!]!
    }
    type Query {
      posts: [Post!]!
      _sdl: String!
      _postsUsers(ids: [ID!]!): [User]! @merge(keyField: "id")
    }
  `;
  const schema: GraphQLSchema = makeExecutableSchema({
    typeDefs,
    resolvers: {
      Query: {
        posts: () => posts,
        _sdl: () => printSchemaWithDirectives(schema),
        _postsUsers: (_root: unknown, { ids }: { ids: string[] }) => ids.map((id) => ({ id })),
      },
      Post: { author: (post: { authorId: string }) => ({ id: post.authorId }) },
      User: { posts: (user: { id: string }) => posts.filter((p) => p.authorId === user.id) },
    },
  });
  return schema;
}

/** An HTTP executor that forwards the gateway request's `Authorization` header and logs each request. */
/** The composition credential the gateway sends (`x-composition-token`) to read `_sdl` while introspection is off. */
const COMPOSITION_TOKEN = 'stitching-gateway-composition-token-0123456789';

function httpExecutor(url: string, log: string[], headers: Record<string, string> = {}): Executor {
  return (async ({ document, variables, context }) => {
    const query = print(document);
    log.push(query);
    const authorization = (context as GatewayContext | undefined)?.authorization;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  }) as Executor;
}

async function subschema(url: string, log: string[]) {
  const executor = httpExecutor(url, log);
  const sdlReader = httpExecutor(url, [], { 'x-composition-token': COMPOSITION_TOKEN });
  const result = (await sdlReader({ document: parse('{ _sdl }') })) as { data?: { _sdl: string }; errors?: unknown };
  if (!result.data) throw new Error(`no _sdl from ${url}: ${JSON.stringify(result.errors)}`);
  return { schema: makeExecutableSchema({ typeDefs: result.data._sdl }), executor };
}

let users: TestServer;
let posts: ApolloServer;
let postsUrl: string;
let gateway: ApolloServer<GatewayContext>;
const usersLog: string[] = [];
const postsLog: string[] = [];
const postRows: { id: string; title: string; authorId: string }[] = [];
let ada: { token: string; id: string; identifier: string; email: string };
let bob: { token: string; id: string; identifier: string; email: string };
let cy: { token: string; id: string; identifier: string };

const signupWithEmail = () => signupWithEmailOn(users, 'author');

async function viaGateway(source: string, variableValues: Record<string, unknown> = {}, token?: string) {
  usersLog.splice(0);
  postsLog.splice(0);
  users.resetQueries();
  const contextValue: GatewayContext = token ? { authorization: `Bearer ${token}` } : {};
  const response = await gateway.executeOperation({ query: source, variables: variableValues }, { contextValue });
  if (response.body.kind !== 'single') throw new Error('incremental response');
  const result = response.body.singleResult;
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data as any;
}

/** Statements that read accounts by id (`_usersByIds`, `user(id:)`), excluding the session lookup. */
const userReads = () => users.queries.filter((sql) => /from "?users"? (as )?"?u"?\b/i.test(sql) && !/sessions/i.test(sql));

beforeAll(async () => {
  users = await startTestServer({ INTROSPECTION: 'false', COMPOSITION_TOKEN });
  [ada, bob] = [await signupWithEmail(), await signupWithEmail()];
  cy = await signupUser(users);
  await users.gql('mutation($id: ID!) { follow(userId: $id) }', { id: ada.id }, bob.token);
  postRows.push(
    { id: 'p1', title: 'Notes on the Analytical Engine', authorId: ada.id },
    { id: 'p2', title: 'On Bernoulli numbers', authorId: ada.id },
    { id: 'p3', title: 'A reply', authorId: bob.id },
    { id: 'p4', title: 'First post', authorId: cy.id },
  );
  posts = new ApolloServer({ schema: postsSchema(postRows) });
  ({ url: postsUrl } = await startStandaloneServer(posts, { listen: { port: 0, host: '127.0.0.1' } }));
  gateway = new ApolloServer<GatewayContext>({
    schema: stitchSchemas<GatewayContext>({
      subschemaConfigTransforms: [stitchingDirectivesTransformer],
      subschemas: [await subschema(`${users.url}/graphql`, usersLog), await subschema(postsUrl, postsLog)],
    }),
  });
  await gateway.start();
});

afterAll(async () => {
  await gateway?.stop();
  await posts?.stop();
  await users?.close();
});

describe('_sdl and _usersByIds', () => {
  it('serves the stitching SDL while introspection is off, to gateways sending the composition token', async () => {
    const introspection = await users.gql('{ __schema { queryType { name } } }');
    expect(introspection.body.errors?.[0]?.message).toMatch(/introspection/i);

    const res = await users.gql('{ _sdl }', undefined, undefined, { 'x-composition-token': COMPOSITION_TOKEN });
    expect(res.body.errors).toBeUndefined();
    const sdl: string = res.body.data._sdl;
    expect(sdl).toContain('directive @key(selectionSet: String!) on OBJECT');
    expect(sdl).toContain('type User @key(selectionSet: "{ id }")');
    expect(sdl).toContain('_usersByIds(ids: [ID!]!): [User]! @merge(keyField: "id")');
    expect(sdl).toContain('mail: MailProfile!'); // the installed profiles are part of it
    expect(() => makeExecutableSchema({ typeDefs: sdl })).not.toThrow();
  });

  it('answers in the order of ids, null for unknown ones, in one statement', async () => {
    users.resetQueries();
    const res = await users.gql('query($ids: [ID!]!) { _usersByIds(ids: $ids) { id identifier } }', {
      ids: [bob.id, '999999999999', ada.id, 'not-an-id', bob.id],
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data._usersByIds).toEqual([
      { id: bob.id, identifier: bob.identifier },
      null,
      { id: ada.id, identifier: ada.identifier },
      null,
      { id: bob.id, identifier: bob.identifier },
    ]);
    expect(userReads()).toHaveLength(1);
  });
});

describe('through a stitching gateway', () => {
  const POSTS = `{ posts { title author { id identifier mail { email } followersCount } } }`;

  it('merges the authors of a list with one request and one statement to this service', async () => {
    const data = await viaGateway(POSTS);
    expect(data.posts).toEqual([
      { title: 'Notes on the Analytical Engine', author: { id: ada.id, identifier: ada.identifier, mail: { email: null }, followersCount: 1 } },
      { title: 'On Bernoulli numbers', author: { id: ada.id, identifier: ada.identifier, mail: { email: null }, followersCount: 1 } },
      { title: 'A reply', author: { id: bob.id, identifier: bob.identifier, mail: { email: null }, followersCount: 0 } },
      { title: 'First post', author: { id: cy.id, identifier: cy.identifier, mail: { email: null }, followersCount: 0 } },
    ]);
    expect(postsLog).toHaveLength(1);
    expect(usersLog).toHaveLength(1);
    expect(usersLog[0]).toContain('_usersByIds');
    expect(userReads()).toHaveLength(1);
    expect(userReads()[0]).toMatch(/\bid"? in \(/);
  });

  it("forwards the caller's Authorization header: private fields only for their owner", async () => {
    const asAda = await viaGateway(POSTS, {}, ada.token);
    expect(asAda.posts.map((p: any) => p.author.mail.email)).toEqual([ada.email, ada.email, null, null]);
    expect(usersLog).toHaveLength(1);

    const asBob = await viaGateway(POSTS, {}, bob.token);
    expect(asBob.posts.map((p: any) => p.author.mail.email)).toEqual([null, null, bob.email, null]);
  });

  it('adds the posts of a user this service resolves', async () => {
    const data = await viaGateway(`query($id: ID!) { user(id: $id) { identifier posts { title } } }`, { id: ada.id });
    expect(data.user).toEqual({ identifier: ada.identifier, posts: [{ title: 'Notes on the Analytical Engine' }, { title: 'On Bernoulli numbers' }] });
    expect(usersLog).toHaveLength(1);
    expect(postsLog).toHaveLength(1);

    const me = await viaGateway(`{ me { identifier posts { title } } }`, {}, bob.token);
    expect(me.me).toEqual({ identifier: bob.identifier, posts: [{ title: 'A reply' }] });
    expect((await viaGateway(`{ me { identifier } }`)).me).toBeNull();
  });
});
