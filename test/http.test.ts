import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ CORS_ORIGINS: 'https://app.example.com', BODY_LIMIT_BYTES: '2048', PLAYGROUND: 'true' });
});
afterAll(async () => {
  await server?.close();
});

describe('HTTP surface', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('refuses bodies over the configured limit with 413', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { id } }`, variables: { pad: 'x'.repeat(4096) } }),
    });
    expect(res.status).toBe(413);
  });

  it('allows CORS only for configured origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const denied = await preflight('https://evil.example.net');
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers malformed JSON with 400 and no stack trace', async () => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/\bat .*\(|node_modules|stack/);
  });

  it('serves Playground to browsers when enabled, with no external URL in the page', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/playground/i);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)/);
    const asset = html.match(/src="(\/playground\/static\/js\/middleware\.js\?v=[^"]+)"/);
    expect(asset).not.toBeNull();
    const js = await fetch(`${server.url}${asset![1]}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it('serves Ruru (GraphiQL) at /graphiql from its own files, with no external URL', async () => {
    const res = await fetch(`${server.url}/graphiql`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('ruru-root');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)/);
    expect(html).toContain('"/graphiql/static/ruru.js"');
    const js = await fetch(`${server.url}/graphiql/static/ruru.js`, { headers: { 'accept-encoding': 'br' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const etag = js.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await fetch(`${server.url}/graphiql/static/ruru.js`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${server.url}/graphiql/static/nothing.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/graphiql/static/ruru.js.map`)).status).toBe(404);
  });
});

describe('production defaults', () => {
  it('turns Playground and introspection off in production', async () => {
    const prod = await startTestServer({ NODE_ENV: 'production' });
    try {
      const page = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/playground/i);
      const introspection = await prod.gql('{ __schema { types { name } } }');
      expect(introspection.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect((await fetch(`${prod.url}/graphiql`)).status).toBe(404);
    } finally {
      await prod.close();
    }
  });

  it('answers an IDE enabled without introspection with a page that says what to set, not a spinner', async () => {
    const prod = await startTestServer({ NODE_ENV: 'production', PLAYGROUND: 'true', GRAPHIQL: 'true' });
    try {
      for (const path of ['/graphql', '/graphiql']) {
        const page = await fetch(`${prod.url}${path}`, { headers: { accept: 'text/html' } });
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toMatch(/unavailable/);
        expect(html).toContain('INTROSPECTION=true');
        expect(html).toContain('x-composition-token');
        expect(html).not.toMatch(/<script/);
      }
      expect((await fetch(`${prod.url}/graphiql/static/ruru.js`)).status).toBe(404);
      expect((await fetch(`${prod.url}/playground/static/js/middleware.js`)).status).toBe(404);
    } finally {
      await prod.close();
    }
  });

  it('serves both IDEs in production when introspection is on as well', async () => {
    const prod = await startTestServer({ NODE_ENV: 'production', PLAYGROUND: 'true', GRAPHIQL: 'true', INTROSPECTION: 'true' });
    try {
      expect(await (await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } })).text()).toMatch(/GraphQL Playground/);
      expect(await (await fetch(`${prod.url}/graphiql`)).text()).toContain('ruru-root');
    } finally {
      await prod.close();
    }
  });
});
