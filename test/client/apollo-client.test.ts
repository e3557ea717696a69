import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { relayStylePagination } from '@apollo/client/utilities';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GOOD_PASSWORD, startTestServer, uniqueIdentifier, type TestServer } from '../helpers/server.ts';
import {
  FollowDocument,
  FollowStateDocument,
  LoginDocument,
  LogoutDocument,
  MeDataDocument,
  MeDocument,
  SignupDocument,
  UnfollowDocument,
  UsersDocument,
  type FollowStatus,
  type ProfilesInput,
  type UsersQuery,
} from './__generated__/graphql.ts';

// A front end's setup, end to end: Apollo Client core (no React) over HTTP against the real
// service, every operation a typed document generated from operations.graphql.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** A client as an application builds it; `session.token` is what its login code would store. */
function createClient() {
  const session: { token?: string } = {};
  const authLink = new SetContextLink((prevContext) => ({
    headers: { ...prevContext.headers, ...(session.token ? { authorization: `Bearer ${session.token}` } : {}) },
  }));
  const client = new ApolloClient({
    link: ApolloLink.from([authLink, new HttpLink({ uri: `${server.url}/graphql`, fetch })]),
    cache: new InMemoryCache({
      typePolicies: {
        Query: { fields: { users: relayStylePagination(['where', 'orderBy']) } },
        // Profiles have no id: they live inside their User, and a fuller selection merges in.
        MailProfile: { merge: true },
        AccountProfile: { merge: true },
        SocialProfile: { merge: true },
      },
    }),
  });
  return { client, session };
}

/** The GraphQL errors a rejected operation carried, or a failure if it was anything else. */
async function graphQLErrors(promise: Promise<unknown>) {
  const error = await promise.then(
    () => expect.fail('the operation succeeded'),
    (e: unknown) => e,
  );
  if (!CombinedGraphQLErrors.is(error)) throw error;
  return error.errors;
}

/** The normalised cache, entity by entity (`User:<id>`, `ROOT_QUERY`). */
function cacheContents(client: ApolloClient): Record<string, Record<string, unknown> | undefined> {
  return client.cache.extract() as Record<string, Record<string, unknown> | undefined>;
}

/** Signs a user up with profiles through the client; returns its id and token. */
async function signup(client: ApolloClient, identifier: string, profiles?: ProfilesInput) {
  const { data } = await client.mutate({ mutation: SignupDocument, variables: { identifier, password: GOOD_PASSWORD, profiles } });
  // A signup always opens a session; token and user are null only while a login awaits a second factor.
  if (!data?.signup?.user || !data.signup.token) throw new Error('signup returned no session');
  return { id: data.signup.user.id, token: data.signup.token, identifier };
}

describe('Apollo Client against the service', () => {
  it('signs up with profiles, logs in, and reads me with its profiles and the data bag through the auth link', async () => {
    const { client, session } = createClient();
    const identifier = uniqueIdentifier('apollo');
    const email = `${identifier}@example.com`;
    const created = await signup(client, identifier, { mail: { email }, account: { firstName: 'Grace' } });

    const login = await client.mutate({ mutation: LoginDocument, variables: { identifier: identifier.toUpperCase(), password: GOOD_PASSWORD } });
    expect(login.data?.login?.user).toEqual({ __typename: 'User', id: created.id, identifier });
    expect(login.data?.login?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.data?.login?.secondFactorRequired).toBe(false);
    expect(Date.parse(login.data!.login!.expiresAt!)).toBeGreaterThan(Date.now());
    session.token = login.data!.login!.token!;
    // The front end keeps the device token (localStorage in a browser) and sends it on later logins;
    // while it is valid the same token comes back.
    const deviceToken = login.data!.login!.deviceToken!;
    expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await client.mutate({ mutation: LoginDocument, variables: { identifier, password: GOOD_PASSWORD, deviceToken } });
    expect(again.data?.login?.deviceToken).toBe(deviceToken);

    const { data } = await client.query({ query: MeDocument });
    expect(data?.me).toEqual({
      __typename: 'User',
      id: created.id,
      identifier,
      hasUsablePassword: true,
      mail: { __typename: 'MailProfile', email, emailConfirmedAt: null },
      account: { __typename: 'AccountProfile', firstName: 'Grace', isActive: true },
      email,
    });
    // Normalised: the user is one cache entry, keyed by its id, holding the profile objects.
    expect(cacheContents(client)[`User:${created.id}`]).toMatchObject({ identifier, mail: { email }, 'data({"key":"email"})': email });

    // Logging out ends the session; the same client without a token is anonymous.
    expect((await client.mutate({ mutation: LogoutDocument })).data?.logout).toBe(true);
    session.token = undefined;
    await client.clearStore();
    expect((await client.query({ query: MeDocument })).data?.me).toBeNull();
  });

  it('pages users with fetchMore, and the relay field policy concatenates the pages in the cache', async () => {
    const { client } = createClient();
    const prefix = uniqueIdentifier('page');
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => `${prefix}-${n}`);
    for (const [i, name] of names.entries()) await signup(client, name, { account: { firstName: `First ${i}` } });

    const variables = { first: 2, where: { identifier: { startsWith: prefix } }, orderBy: [{ field: 'identifier' }] };
    const observable = client.watchQuery({ query: UsersDocument, variables });
    const seen: string[][] = [];
    let firstPage!: (data: UsersQuery) => void;
    const firstLoaded = new Promise<UsersQuery>((resolve) => (firstPage = resolve));
    const subscription = observable.subscribe((result) => {
      if (result.error) throw new Error(result.error.message);
      if (result.dataState !== 'complete') return;
      seen.push(result.data.users.edges.map((e) => e.node.identifier));
      firstPage(result.data);
    });
    try {
      const first = { data: await firstLoaded };
      expect(first.data.users.edges.map((e) => e.node.identifier)).toEqual(names.slice(0, 2));
      expect(first.data.users.pageInfo.hasNextPage).toBe(true);
      expect(first.data.users.totalCount).toBe(5);

      let pageInfo = first.data.users.pageInfo;
      let pages = 1;
      while (pageInfo.hasNextPage) {
        const more = await observable.fetchMore({ variables: { after: pageInfo.endCursor } });
        pageInfo = more.data.users.pageInfo;
        pages += 1;
      }
      expect(pages).toBe(3);

      // The cache holds one list under the key arguments (where, orderBy), not one per page.
      const cached = client.readQuery({ query: UsersDocument, variables });
      expect(cached?.users.edges.map((e) => e.node.identifier)).toEqual(names);
      expect(cached?.users.edges.map((e) => e.node.account.firstName)).toEqual(names.map((_, i) => `First ${i}`));
      expect(cached?.users.pageInfo.hasNextPage).toBe(false);
      // The watching query (a list component) is told about the merged list.
      await vi.waitFor(() => expect(seen.at(-1)).toEqual(names));
      expect(observable.getCurrentResult().data?.users?.edges).toHaveLength(5);
      const rootFields = Object.keys(cacheContents(client).ROOT_QUERY ?? {}).filter((k) => k.startsWith('users'));
      expect(rootFields).toEqual([`users:${JSON.stringify({ where: variables.where, orderBy: variables.orderBy })}`]);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('follows and unfollows, updating the cache with cache.modify and refetchQueries', async () => {
    const { client, session } = createClient();
    const target = await signup(client, uniqueIdentifier('star'));
    const viewer = await signup(client, uniqueIdentifier('fan'));
    session.token = viewer.token;

    const state = async () => (await client.query({ query: FollowStateDocument, variables: { id: target.id } })).data?.user;
    const cachedState = () => client.readQuery({ query: FollowStateDocument, variables: { id: target.id } })?.user;
    expect(await state()).toMatchObject({ id: target.id, followersCount: 0, viewerFollowStatus: 'NONE' });

    // follow returns a status, not the user: the cache is updated by hand.
    const followed = await client.mutate({
      mutation: FollowDocument,
      variables: { userId: target.id },
      update(cache, { data }) {
        const status = data?.follow;
        if (!status) return;
        cache.modify({
          id: cache.identify({ __typename: 'User', id: target.id }),
          fields: {
            viewerFollowStatus: () => status,
            followersCount: (count: number) => (status === 'CONFIRMED' ? count + 1 : count),
          },
        });
      },
    });
    expect(followed.data?.follow).toBe<FollowStatus>('CONFIRMED');
    expect(cachedState()).toMatchObject({ followersCount: 1, viewerFollowStatus: 'CONFIRMED' });
    // …and the server agrees.
    const fresh = await client.query({ query: FollowStateDocument, variables: { id: target.id }, fetchPolicy: 'network-only' });
    expect(fresh.data?.user).toMatchObject({ followersCount: 1, viewerFollowStatus: 'CONFIRMED' });

    // unfollow: let the server say what changed.
    const unfollowed = await client.mutate({
      mutation: UnfollowDocument,
      variables: { userId: target.id },
      refetchQueries: [{ query: FollowStateDocument, variables: { id: target.id } }],
      awaitRefetchQueries: true,
    });
    expect(unfollowed.data?.unfollow).toBe(true);
    expect(cachedState()).toMatchObject({ followersCount: 0, viewerFollowStatus: 'NONE' });
  });
});

describe('Apollo Client error handling', () => {
  it('rejects a wrong password with CombinedGraphQLErrors carrying INVALID_CREDENTIALS', async () => {
    const { client } = createClient();
    const user = await signup(client, uniqueIdentifier('wrong'));
    const errors = await graphQLErrors(
      client.mutate({ mutation: LoginDocument, variables: { identifier: user.identifier, password: 'not the password at all' } }),
    );
    expect(errors.map((e) => e.extensions?.code)).toEqual(['INVALID_CREDENTIALS']);
    expect(errors[0]?.path).toEqual(['login']);
  });

  it('reports an unknown data-bag key as PROFILE_KEY_UNKNOWN, and keeps the partial data with errorPolicy all', async () => {
    const { client, session } = createClient();
    const user = await signup(client, uniqueIdentifier('nope'));
    session.token = user.token;

    const errors = await graphQLErrors(client.query({ query: MeDataDocument, variables: { key: 'nope' } }));
    expect(errors.map((e) => e.extensions?.code)).toEqual(['PROFILE_KEY_UNKNOWN']);
    expect(errors[0]?.path).toEqual(['me', 'value']);

    const partial = await client.query({ query: MeDataDocument, variables: { key: 'nope' }, errorPolicy: 'all', fetchPolicy: 'network-only' });
    expect(partial.data?.me).toEqual({ __typename: 'User', id: user.id, value: null });
    expect(CombinedGraphQLErrors.is(partial.error) && partial.error.errors[0]?.extensions?.code).toBe('PROFILE_KEY_UNKNOWN');

    const known = await client.query({ query: MeDataDocument, variables: { key: 'account.isActive' } });
    expect(known.data?.me?.value).toBe(true);
  });

  it('answers me with null, not an error, without a token or with an unknown one', async () => {
    const { client, session } = createClient();
    const anonymous = await client.query({ query: MeDocument });
    expect(anonymous.data?.me).toBeNull();
    expect(anonymous.error).toBeUndefined();
    session.token = 'x'.repeat(43);
    expect((await client.query({ query: MeDocument, fetchPolicy: 'network-only' })).data?.me).toBeNull();
  });
});
