import { serverAudits, type AuditFail } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';

// The GraphQL over HTTP conformance audits of graphql-http (the spec's reference
// implementation) against the service. Every request carries Apollo Server's CSRF preflight
// header, as a browser client must for GET requests. An audit in error fails its test; warnings
// and notices (SHOULD/MAY requirements) are listed but pass.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ INTROSPECTION: 'true' });
});

const notes: AuditFail[] = [];
afterAll(async () => {
  if (notes.length) {
    console.warn(
      `graphql-http audits with warnings or notices (${notes.length}):\n` + notes.map((n) => `  [${n.status}] ${n.id} ${n.name}\n      ${n.reason}`).join('\n'),
    );
  }
  await server?.close();
});

/** fetch with `apollo-require-preflight: true` on every request. */
const fetchWithPreflight: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('apollo-require-preflight', 'true');
  return fetch(input, { ...init, headers });
};

async function describeResponse(response: Response): Promise<string> {
  let body: string;
  try {
    body = await response.clone().text();
  } catch {
    body = '(body already read)';
  }
  return `HTTP ${response.status} ${response.headers.get('content-type') ?? ''}\n${body.slice(0, 1000)}`;
}

describe('GraphQL over HTTP (graphql-http server audits)', () => {
  const audits = serverAudits({ url: () => `${server.url}/graphql`, fetchFn: fetchWithPreflight });

  it('has audits to run', () => {
    expect(audits.length).toBeGreaterThan(30);
  });

  for (const audit of audits) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      if (result.status === 'ok') return;
      if (result.status !== 'error') {
        notes.push(result);
        return;
      }
      expect.fail(`${result.id} ${result.name}: ${result.reason}\n${await describeResponse(result.response)}`);
    });
  }
});
