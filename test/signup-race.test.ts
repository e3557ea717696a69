import { afterAll, beforeAll, expect, it } from 'vitest';
import { GOOD_PASSWORD, SIGNUP, startTestServer, type TestServer } from './helpers/server.ts';
import { randomBytes } from 'node:crypto';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

it('lets exactly one of 16 concurrent signups of one identifier in case and normalisation variants win', async () => {
  const tag = randomBytes(4).toString('hex');
  // NFC and NFD "é", fullwidth letters (NFKC folds them), and case variants.
  const base = ['jos\u00e9', 'jose\u0301', 'JOS\u00c9', 'JOSE\u0301', 'Jos\u00e9', '\uff4a\uff4f\uff53\u00e9', 'jOs\u00c9', 'JoS\u00e9'];
  const variants = Array.from({ length: 16 }, (_, i) => `${base[i % base.length]}-${tag}`);
  const results = await Promise.all(variants.map((identifier) => server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD })));

  expect(results.map((r) => r.status).every((s) => s === 200)).toBe(true);
  const winners = results.filter((r) => r.body.data?.signup);
  const losers = results.filter((r) => r.body.errors);
  expect(winners).toHaveLength(1);
  expect(losers).toHaveLength(15);
  for (const loser of losers) expect(loser.body.errors![0].extensions.code).toBe('IDENTIFIER_TAKEN');

  const [row] = await server.db.orm.em.fork().execute('select count(*)::int as n from users where identifier_key = ?', [`jos\u00e9-${tag}`]);
  expect(row!.n).toBe(1);
});
