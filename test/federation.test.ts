import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
// Only AST helpers from 'graphql' here: vitest resolves it to its ESM build while the
// externalised packages use the CommonJS one, and schemas must not cross the two.
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupUser, signupWithEmail as signupWithEmailOn, startTestServer, type TestServer } from './helpers/server.ts';

/**
 * SPEC §5, Apollo Federation: this service as a Federation 2 subgraph (FEDERATION=true,
 * introspection off as in production) and a "reviews" subgraph, composed locally with
 * `@apollo/composition` and run by `@apollo/gateway`, which forwards the caller's
 * `Authorization` header to every subgraph.
 */

interface GatewayContext {
  authorization?: string;
}

interface ReviewRow {
  id: string;
  body: string;
  authorId: string;
}

const reviewsTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Review {
    id: ID!
    body: String!
    author: User!
  }
  type User @key(fields: "id") {
    id: ID!
    reviews: [Review!]!
  }
  type Query {
    reviews: [Review!]!
  }
`);

function reviewsSubgraph(rows: ReviewRow[]) {
  return buildSubgraphSchema([
    {
      typeDefs: reviewsTypeDefs,
      resolvers: {
        Query: { reviews: () => rows },
        Review: { author: (review: ReviewRow) => ({ __typename: 'User', id: review.authorId }) },
        User: { reviews: (user: { id: string }) => rows.filter((r) => r.authorId === user.id) },
      },
    },
  ]);
}

let users: TestServer;
let reviews: ApolloServer;
let gateway: ApolloServer<GatewayContext>;
/** Operations the gateway sent to each subgraph during the last {@link viaGateway}. */
const sent: Record<string, string[]> = { users: [], reviews: [] };
const reviewRows: ReviewRow[] = [];
let ada: { token: string; id: string; identifier: string; email: string };
let bob: { token: string; id: string; identifier: string; email: string };
let cy: { token: string; id: string; identifier: string };

const signupWithEmail = () => signupWithEmailOn(users, 'reviewer');

async function viaGateway(query: string, variables: Record<string, unknown> = {}, token?: string) {
  sent.users!.splice(0);
  sent.reviews!.splice(0);
  users.resetQueries();
  const contextValue: GatewayContext = token ? { authorization: `Bearer ${token}` } : {};
  const response = await gateway.executeOperation({ query, variables }, { contextValue });
  if (response.body.kind !== 'single') throw new Error('incremental response');
  const result = response.body.singleResult;
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data as any;
}

/** Statements that read accounts by id (`_entities`, `user(id:)`), excluding the session lookup. */
const userReads = () => users.queries.filter((sql) => /from "?users"? (as )?"?u"?\b/i.test(sql) && !/sessions/i.test(sql));

/** The composition credential gateways send (`x-composition-token`) to read `_service`/`_sdl` while introspection is off. */
const COMPOSITION_TOKEN = 'federation-gateway-composition-token-0123456789';
const composition = { 'x-composition-token': COMPOSITION_TOKEN };

beforeAll(async () => {
  users = await startTestServer({ FEDERATION: 'true', INTROSPECTION: 'false', COMPOSITION_TOKEN });
  [ada, bob] = [await signupWithEmail(), await signupWithEmail()];
  cy = await signupUser(users);
  await users.gql('mutation($id: ID!) { follow(userId: $id) }', { id: ada.id }, bob.token);
  reviewRows.push(
    { id: 'r1', body: 'Five stars', authorId: ada.id },
    { id: 'r2', body: 'Would read again', authorId: ada.id },
    { id: 'r3', body: 'Too long', authorId: bob.id },
    { id: 'r4', body: 'First!', authorId: cy.id },
  );
  reviews = new ApolloServer({ schema: reviewsSubgraph(reviewRows) });
  const { url: reviewsUrl } = await startStandaloneServer(reviews, { listen: { port: 0, host: '127.0.0.1' } });

  const usersSdl = await users.gql('{ _service { sdl } }', undefined, undefined, composition);
  if (!usersSdl.body.data) throw new Error(usersSdl.text);
  const composed = composeServices([
    { name: 'users', url: `${users.url}/graphql`, typeDefs: parse(usersSdl.body.data._service.sdl) },
    { name: 'reviews', url: reviewsUrl, typeDefs: reviewsTypeDefs },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));

  gateway = new ApolloServer<GatewayContext>({
    gateway: new ApolloGateway({
      supergraphSdl: composed.supergraphSdl,
      buildService: ({ name, url }) =>
        new RemoteGraphQLDataSource<GatewayContext>({
          url,
          fetcher: (async (input: string, init: { body?: string }) => {
            sent[name]?.push(JSON.parse(init.body ?? '{}').query);
            return fetch(input, init);
          }) as never,
          willSendRequest({ request, context }) {
            if (context.authorization) request.http?.headers.set('authorization', context.authorization);
          },
        }),
    }),
  });
  await gateway.start();
});

afterAll(async () => {
  await gateway?.stop();
  await reviews?.stop();
  await users?.close();
});

describe('the subgraph', () => {
  it('serves _service with User as a Federation 2 entity while introspection is off, to gateways sending the composition token', async () => {
    const introspection = await users.gql('{ __schema { queryType { name } } }');
    expect(introspection.body.errors?.[0]?.message).toMatch(/introspection/i);
    const anonymous = await users.gql('{ _service { sdl } }');
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(anonymous.body.data?._service?.sdl ?? null).toBeNull();

    const sdl: string = (await users.gql('{ _service { sdl } }', undefined, undefined, composition)).body.data._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])');
    expect(sdl).toMatch(/type User @key\(fields: "id"\)/);
    expect(sdl).not.toContain('directive @key(selectionSet');
  });

  it('resolves _entities in order, null for unknown ids, in one statement', async () => {
    users.resetQueries();
    const res = await users.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id identifier } } }', {
      r: [bob.id, '999999999999', ada.id].map((id) => ({ __typename: 'User', id })),
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data._entities).toEqual([{ id: bob.id, identifier: bob.identifier }, null, { id: ada.id, identifier: ada.identifier }]);
    expect(userReads()).toHaveLength(1);
  });

  it('keeps the stitching fields: _sdl (stitching SDL) and _usersByIds', async () => {
    const res = await users.gql('query($ids: [ID!]!) { _sdl _usersByIds(ids: $ids) { identifier } }', { ids: [ada.id, '0'] }, undefined, composition);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data._sdl).toContain('type User @key(selectionSet: "{ id }")');
    expect(res.body.data._sdl).toContain('_usersByIds(ids: [ID!]!): [User]! @merge(keyField: "id")');
    expect(res.body.data._sdl).not.toContain('_entities(');
    expect(res.body.data._usersByIds).toEqual([{ identifier: ada.identifier }, null]);
  });
});

describe('through an Apollo gateway', () => {
  const REVIEWS = `{ reviews { body author { id identifier followersCount mail { email } } } }`;

  it('resolves every author with one _entities request and one statement', async () => {
    const data = await viaGateway(REVIEWS);
    expect(data.reviews).toEqual([
      { body: 'Five stars', author: { id: ada.id, identifier: ada.identifier, followersCount: 1, mail: { email: null } } },
      { body: 'Would read again', author: { id: ada.id, identifier: ada.identifier, followersCount: 1, mail: { email: null } } },
      { body: 'Too long', author: { id: bob.id, identifier: bob.identifier, followersCount: 0, mail: { email: null } } },
      { body: 'First!', author: { id: cy.id, identifier: cy.identifier, followersCount: 0, mail: { email: null } } },
    ]);
    expect(sent.reviews).toHaveLength(1);
    expect(sent.users).toHaveLength(1);
    expect(sent.users![0]).toContain('_entities');
    expect(userReads()).toHaveLength(1);
    expect(userReads()[0]).toMatch(/\bid"? in \(/);
  });

  it("forwards the caller's Authorization header: private fields only for their owner", async () => {
    const asAda = await viaGateway(REVIEWS, {}, ada.token);
    expect(asAda.reviews.map((r: any) => r.author.mail.email)).toEqual([ada.email, ada.email, null, null]);
    expect(sent.users).toHaveLength(1);

    const asBob = await viaGateway(REVIEWS, {}, bob.token);
    expect(asBob.reviews.map((r: any) => r.author.mail.email)).toEqual([null, null, bob.email, null]);
  });

  it('adds the reviews of a user this subgraph resolves', async () => {
    const data = await viaGateway(`query($id: ID!) { user(id: $id) { identifier reviews { body } } }`, { id: ada.id });
    expect(data.user).toEqual({ identifier: ada.identifier, reviews: [{ body: 'Five stars' }, { body: 'Would read again' }] });
    expect(sent.users).toHaveLength(1);
    expect(sent.reviews).toHaveLength(1);

    const me = await viaGateway(`{ me { identifier reviews { body } } }`, {}, bob.token);
    expect(me.me).toEqual({ identifier: bob.identifier, reviews: [{ body: 'Too long' }] });
  });
});
