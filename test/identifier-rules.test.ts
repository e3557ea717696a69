import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createMigration } from '../src/db/migrations-tasks.ts';
import { freshDatabase, prepareProfileWorkspace, type FreshDatabase, type ProfileWorkspace } from './helpers/fresh-database.ts';
import { GOOD_PASSWORD, SIGNUP, startTestServer, type TestServer } from './helpers/server.ts';

/** Identifier rules and hooks a profile contributes, applied at signup over HTTP. */

const CORP_SDL = String.raw`
"Work accounts of Corp."
type CorpProfile
  @profile(name: "corp")
  @identifier(format: EMAIL, message: "use your work address")
  @identifier(pattern: "@corp\\.example$") {
  "Cost centre."
  department: String @length(max: 40)
  "Work address. Overlaps mail.email and account.email, and corp declares no precedence."
  email: EmailAddress
}
`;

const CORP_HOOKS = `
export function validateIdentifier(identifier: string): string | undefined {
  return identifier.toLowerCase().startsWith('admin') ? 'administrative addresses cannot sign up.' : undefined;
}
`;

let workspace: ProfileWorkspace;
let fresh: FreshDatabase;
let server: TestServer;

beforeAll(async () => {
  workspace = prepareProfileWorkspace();
  writeFileSync(join(workspace.profilesDir, 'corp.graphql'), CORP_SDL);
  writeFileSync(join(workspace.profilesDir, 'corp.hooks.ts'), CORP_HOOKS);
  fresh = await freshDatabase();
  const env = {
    DATABASE_URL: fresh.url,
    PROFILES_DIR: workspace.profilesDir,
    MIGRATIONS_DIR: workspace.migrationsDir,
    MIGRATE_ON_START: 'true',
    DATABASE_POOL_MAX: fresh.embedded ? '1' : '5',
  };
  const created = await createMigration(loadConfig(env), { name: 'corp' });
  expect(created?.statements.join('\n')).toMatch(/create table "profile_corp"/);
  server = await startTestServer(env);
});

afterAll(async () => {
  await server?.close();
  await fresh?.drop();
  workspace?.remove();
});

async function refusedIdentifier(identifier: string): Promise<string> {
  const res = await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD });
  expect(res.body.data).toEqual({ signup: null });
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  const fields = res.body.errors[0].extensions.fields as Record<string, string>;
  expect(Object.keys(fields)).toEqual(['input.identifier']);
  expect(fields['input.identifier']).toContain('Profile "corp"');
  const lookup = await server.gql('query ($i: String!) { user(identifier: $i) { id } }', { i: identifier });
  expect(lookup.body.data.user).toBeNull();
  return fields['input.identifier']!;
}

describe('identifier rules contributed by a profile', () => {
  it('refuses an identifier that is not an email address, with the profile’s message', async () => {
    expect(await refusedIdentifier('ada-lovelace')).toBe('Profile "corp" refuses this identifier: use your work address.');
  });

  it('refuses an address outside the required pattern', async () => {
    expect(await refusedIdentifier('ada@elsewhere.example')).toBe('Profile "corp" refuses this identifier: must match @corp\\.example$.');
  });

  it('refuses what the profile’s TypeScript hook refuses', async () => {
    expect(await refusedIdentifier('admin@corp.example')).toBe('Profile "corp" refuses this identifier: administrative addresses cannot sign up.');
  });

  it('accepts an identifier every rule and hook allows, and creates the profile', async () => {
    const res = await server.gql(SIGNUP, { identifier: 'ada@corp.example', password: GOOD_PASSWORD });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.signup.user.identifier).toBe('ada@corp.example');
    const me = await server.gql('{ me { identifier corp { department } } }', {}, res.body.data.signup.token);
    expect(me.body).toEqual({ data: { me: { identifier: 'ada@corp.example', corp: { department: null } } } });
  });

  it('makes reading an overlapping key an overlap error when one definer has no precedence', async () => {
    const res = await server.gql(SIGNUP, { identifier: 'grace@corp.example', password: GOOD_PASSWORD });
    const token = res.body.data.signup.token;
    const read = await server.gql('{ me { data(key: "email") } }', {}, token);
    expect(read.body.errors[0].extensions).toEqual({
      code: 'PROFILE_KEY_AMBIGUOUS',
      key: 'email',
      qualifiedKeys: ['mail.email', 'account.email', 'corp.email'],
    });
    expect(read.body.errors[0].message).toContain('mail.email, account.email, corp.email');
    const all = await server.gql('{ me { dataAll(key: "email") { profile } qualified: data(key: "corp.email") } }', {}, token);
    expect(all.body.data.me).toEqual({ dataAll: [{ profile: 'mail' }, { profile: 'account' }, { profile: 'corp' }], qualified: null });
  });
});
