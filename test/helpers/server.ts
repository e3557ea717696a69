import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { afterAll, inject } from 'vitest';
import { createApp, type App, type AppDeps } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.ts';
import { openDatabase, type Database } from '../../src/db/orm.ts';
import { createLogger } from '../../src/logger.ts';
import { registryFromConfig } from '../../src/schema.ts';

/** GraphQL response as parsed JSON. */
export interface GqlResponse<T = any> {
  status: number;
  body: { data?: T; errors?: any };
  text: string;
}

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:54321 */
  url: string;
  app: App;
  db: Database;
  config: Config;
  /** The app's root pino logger (silent unless TEST_LOG_LEVEL); tests spy on its methods. */
  logger: Logger;
  /** POST a GraphQL operation; returns HTTP status and parsed JSON body. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<GqlResponse<T>>;
  /** SQL statements the app ran since the last `resetQueries()`. */
  queries: string[];
  resetQueries(): void;
  close(): Promise<void>;
}

let embedded: Promise<EmbeddedPostgres> | undefined;

/** This test file's database URL: the shared real PostgreSQL, or its own embedded one. */
async function databaseUrl(): Promise<string> {
  const shared = inject('databaseUrl');
  if (shared) return shared;
  embedded ??= startEmbeddedPostgres('memory://', {
    loadDataDir: new Blob([readFileSync(inject('embeddedDump'))]),
  });
  return (await embedded).url;
}

afterAll(async () => {
  if (embedded) await (await embedded).stop();
});

/**
 * Starts the real app on an ephemeral loopback port against the run's test database
 * (see global-setup.ts). `configOverrides` are environment variables.
 */
export async function startTestServer(configOverrides: Record<string, string> = {}, deps: AppDeps = {}): Promise<TestServer> {
  const databaseUrlForFile = configOverrides.DATABASE_URL ?? (await databaseUrl());
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    DATABASE_URL: databaseUrlForFile,
    DATABASE_POOL_MAX: inject('databaseUrl') ? '10' : '1',
    MIGRATE_ON_START: 'false',
    LOGIN_MAX_FAILURES_PER_ADDRESS: '100000',
    TOKEN_MAX_FAILURES_PER_ADDRESS: '100000',
    SIGNUP_MAX_PER_ADDRESS_HOUR: '100000',
    // Test servers share a database: only a test that asks for it delivers webhooks.
    WEBHOOK_DISPATCH_INTERVAL_MS: '0',
    // Production-mode test servers need a key for secrets at rest.
    SECRETS_KEY: 'a1'.repeat(32),
    // Test servers keep their mail in the outbox (or a CaptureTransport) in production mode too.
    MAIL_OUTBOX_IN_PRODUCTION: 'true',
    ...configOverrides,
  });
  const queries: string[] = [];
  const logger = createLogger(config);
  const registry = await registryFromConfig(config);
  const db = await openDatabase(config, { logger, profiles: registry.profiles, onQuery: (sql) => queries.push(sql) });
  const app = await createApp(config, db, registry, logger, deps);
  await app.http.listen({ port: 0, host: '127.0.0.1' });
  const address = app.http.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    app,
    db,
    config,
    logger,
    queries,
    resetQueries: () => void queries.splice(0),
    async gql(query, variables, token, headers = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text), text };
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}

/** A unique identifier for this test run, so tests never collide on shared databases. */
export function uniqueIdentifier(prefix = 'user'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A password that passes the default rules. */
export const GOOD_PASSWORD = 'correct horse battery staple 42';

export const SIGNUP = /* GraphQL */ `
  mutation Signup($identifier: String!, $password: String!) {
    signup(input: { identifier: $identifier, password: $password }) {
      token
      expiresAt
      user {
        id
        identifier
      }
    }
  }
`;
export const LOGIN = /* GraphQL */ `
  mutation Login($identifier: String!, $password: String!) {
    login(identifier: $identifier, password: $password) {
      token
      expiresAt
      user {
        id
        identifier
      }
    }
  }
`;
export const ME = /* GraphQL */ `
  query {
    me {
      id
      identifier
      hasUsablePassword
    }
  }
`;

/** Signs up a fresh superuser (its `account` flags written in SQL) and returns it as {@link signupUser} does. */
export async function signupSuperuser(server: TestServer) {
  const admin = await signupUser(server);
  await server.db.orm.em.fork().execute('update profile_account set is_staff = true, is_superuser = true where user_id = ?', [admin.id]);
  return admin;
}

/**
 * Signs up a staff member (not a superuser) holding exactly `permissions`, granted through
 * `setUserPermissions` by a fresh superuser; returns both.
 */
export async function signupStaff(server: TestServer, permissions: string[] = []) {
  const admin = await signupSuperuser(server);
  const staff = await signupUser(server);
  await server.db.orm.em.fork().execute('update profile_account set is_staff = true where user_id = ?', [staff.id]);
  if (permissions.length > 0) {
    const granted = await server.gql(
      'mutation($u: ID!, $p: [String!]!) { setUserPermissions(userId: $u, permissions: $p) { id } }',
      { u: staff.id, p: permissions },
      admin.token,
    );
    if (granted.body.errors) throw new Error(`setUserPermissions failed: ${granted.text}`);
  }
  return { admin, staff };
}

/** Signs up a fresh user and returns its token and id. */
export async function signupUser(server: TestServer, identifier = uniqueIdentifier(), password = GOOD_PASSWORD) {
  const res = await server.gql(SIGNUP, { identifier, password });
  if (!res.body.data?.signup) throw new Error(`signup failed: ${res.text}`);
  const { token, user } = res.body.data.signup as { token: string; user: { id: string; identifier: string } };
  return { token, id: user.id, identifier, password };
}

/** Signs up a fresh user with a `mail.email` address; returns its token, id, identifier and address. */
export async function signupWithEmail(server: TestServer, prefix = 'user') {
  const identifier = uniqueIdentifier(prefix);
  const email = `${identifier}@example.com`;
  const res = await server.gql(
    `mutation($identifier: String!, $password: String!, $email: EmailAddress!) {
      signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) { token user { id } }
    }`,
    { identifier, password: GOOD_PASSWORD, email },
  );
  if (!res.body.data?.signup) throw new Error(`signup failed: ${res.text}`);
  return { token: res.body.data.signup.token as string, id: res.body.data.signup.user.id as string, identifier, email };
}
