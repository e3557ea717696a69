import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { GOOD_PASSWORD, LOGIN, SIGNUP, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

/** One sample of the text format: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the sample `name` whose labels include `labels`; 0 when absent (a counter not yet moved). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}

/** A client address of its own per run, so the signup and login throttles of a shared database never interfere. */
function freshAddress() {
  return { 'x-forwarded-for': `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}` };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ METRICS_PORT: '0', TRUST_PROXY: 'true' });
});
afterAll(async () => {
  await server?.close();
});

async function scrape(): Promise<{ response: Response; samples: Sample[]; text: string }> {
  const response = await fetch(`${server.app.metricsUrl!}/metrics`);
  const text = await response.text();
  return { response, samples: parseSamples(text), text };
}

describe('metrics', () => {
  it('serves GET /metrics in the Prometheus text format on its own loopback port', async () => {
    expect(server.app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.app.metricsUrl).not.toBe(server.url);
    const { response, text } = await scrape();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('# TYPE profilegraph_graphql_requests_total counter');
    const other = await fetch(`${server.app.metricsUrl!}/graphql`);
    expect(other.status).toBe(404);
  });

  it('never answers /metrics on the public port', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(404);
  });

  it('counts requests by operation and outcome, errors by code, login failures and argon2 waits', async () => {
    const headers = freshAddress();
    const before = (await scrape()).samples;
    const identifier = uniqueIdentifier('metrics');
    const signup = await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD }, undefined, headers);
    const user = { identifier, token: signup.body.data.signup.token as string };
    const named = await server.gql('query MetricsProbe { me { id } }', {}, user.token, headers);
    expect(named.body.errors).toBeUndefined();
    const wrong = await server.gql(LOGIN, { identifier: user.identifier, password: 'a wrong password for metrics' }, undefined, headers);
    expect(wrong.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    await server.gql('{ me { id } }', {}, user.token, headers);

    const after = (await scrape()).samples;
    const moved = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(moved('profilegraph_graphql_requests_total', { operation: 'MetricsProbe', outcome: 'ok' })).toBe(1);
    expect(moved('profilegraph_graphql_requests_total', { operation: 'Login', outcome: 'error' })).toBe(1);
    expect(moved('profilegraph_graphql_requests_total', { operation: 'anonymous', outcome: 'ok' })).toBe(1);
    expect(moved('profilegraph_graphql_request_duration_seconds_count', { operation: 'MetricsProbe' })).toBe(1);
    expect(moved('profilegraph_graphql_errors_total', { code: 'INVALID_CREDENTIALS' })).toBe(1);
    expect(moved('profilegraph_login_failures_total', { reason: 'invalid_credentials' })).toBe(1);
    // The signup hashed and the login verified: two computations went through the limiter.
    expect(moved('profilegraph_password_hash_wait_seconds_count')).toBeGreaterThanOrEqual(2);
  });

  it('counts mail deliveries by outcome', async () => {
    const before = valueOf((await scrape()).samples, 'profilegraph_mail_deliveries_total', { outcome: 'delivered' });
    const identifier = uniqueIdentifier('metrics-mail');
    const signup = await server.gql(
      `mutation($identifier: String!, $password: String!, $email: EmailAddress!) {
        signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) { token }
      }`,
      { identifier, password: GOOD_PASSWORD, email: `${identifier}@example.com` },
      undefined,
      freshAddress(),
    );
    expect(signup.body.errors).toBeUndefined();
    await server.app.services.background.drain();
    await server.app.services.mailer.drain();
    const after = valueOf((await scrape()).samples, 'profilegraph_mail_deliveries_total', { outcome: 'delivered' });
    expect(after - before).toBe(1);
  });

  it('reports the database pool, the argon2 queue and the process metrics at every scrape', async () => {
    const { samples } = await scrape();
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      'profilegraph_db_pool_connections_in_use',
      'profilegraph_db_pool_connections_idle',
      'profilegraph_db_pool_waiting_requests',
      'profilegraph_password_hash_queue_length',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(valueOf(samples, 'profilegraph_db_pool_connections_in_use')).toBeGreaterThanOrEqual(0);
    expect(valueOf(samples, 'profilegraph_db_pool_connections_idle') + valueOf(samples, 'profilegraph_db_pool_connections_in_use')).toBeGreaterThan(0);
  });

  it('labels operation names that are not plain GraphQL names as other', async () => {
    const before = valueOf((await scrape()).samples, 'profilegraph_graphql_requests_total', { operation: 'other' });
    // Not a valid name: the request fails to parse, and the client-sent operationName is not trusted as a label.
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...freshAddress() },
      body: JSON.stringify({ query: '{ me { id } }', operationName: 'not a name!' }),
    });
    await response.text();
    const after = valueOf((await scrape()).samples, 'profilegraph_graphql_requests_total', { operation: 'other' });
    expect(after - before).toBe(1);
  });
});

describe('metrics configuration', () => {
  it('serves no metrics without METRICS_PORT', async () => {
    const plain = await startTestServer();
    try {
      expect(plain.app.metrics).toBeUndefined();
      expect(plain.app.metricsUrl).toBeUndefined();
      expect((await fetch(`${plain.url}/metrics`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('stops the metrics server when the app closes', async () => {
    const own = await startTestServer({ METRICS_PORT: '0' });
    const url = `${own.app.metricsUrl!}/metrics`;
    expect((await fetch(url)).status).toBe(200);
    await own.close();
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses METRICS_PORT equal to PORT', () => {
    expect(() => loadConfig({ PORT: '4000', METRICS_PORT: '4000' })).toThrow(ConfigError);
    expect(loadConfig({ PORT: '4000', METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
  });
});
