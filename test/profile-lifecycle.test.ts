import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createMigration } from '../src/db/migrations-tasks.ts';
import { freshDatabase, prepareProfileWorkspace, type FreshDatabase, type ProfileWorkspace } from './helpers/fresh-database.ts';
import { GOOD_PASSWORD, signupUser, startTestServer, type TestServer } from './helpers/server.ts';

/**
 * Issue acceptance 1 and 2: adding a profile is one SDL file plus a generated migration, and
 * users created before the profile existed get its row lazily, in one batched insert.
 */

const PET_SDL = /* GraphQL */ `
  "The user's pet."
  type PetProfile @profile(name: "pet", precedence: 40) {
    "What the pet answers to."
    petName: String @length(max: 60)
    "What kind of animal it is."
    species: Species! @default(value: "CAT")
    "Also defined by the social profile (precedence 30), which data(key: bio) reads."
    bio: String
  }

  "Kinds of pets."
  enum Species {
    CAT
    DOG
    PARROT
  }
`;

const SIGNUP_WITH_PROFILES = /* GraphQL */ `
  mutation ($identifier: String!, $password: String!, $profiles: ProfilesInput) {
    signup(input: { identifier: $identifier, password: $password, profiles: $profiles }) {
      token
      user {
        id
        identifier
      }
    }
  }
`;

const USERS = /* GraphQL */ `
  query ($where: UserWhere, $orderBy: [UserOrder!]) {
    users(first: 50, where: $where, orderBy: $orderBy) {
      totalCount
      edges {
        node {
          identifier
        }
      }
    }
  }
`;

const OLD_USERS_PETS = /* GraphQL */ `
  query ($prefix: String!) {
    users(first: 50, where: { identifier: { startsWith: $prefix } }) {
      edges {
        node {
          identifier
          pet {
            species
          }
        }
      }
    }
  }
`;

const PET_INSERT = /insert into "profile_pet"/i;

let workspace: ProfileWorkspace;
let fresh: FreshDatabase;
let env: Record<string, string>;
let server: TestServer | undefined;
const oldPrefix = `lc-old-${randomBytes(4).toString('hex')}-`;
const newPrefix = `lc-new-${randomBytes(4).toString('hex')}-`;
let migrationFile = '';

beforeAll(async () => {
  workspace = prepareProfileWorkspace();
  fresh = await freshDatabase();
  env = {
    DATABASE_URL: fresh.url,
    PROFILES_DIR: workspace.profilesDir,
    MIGRATIONS_DIR: workspace.migrationsDir,
    MIGRATE_ON_START: 'true',
    DATABASE_POOL_MAX: fresh.embedded ? '1' : '5',
  };

  // Server A: the shipped profiles only; 12 users sign up before the pet profile exists.
  const a = await startTestServer(env);
  try {
    expect(a.config.database.url).toBe(fresh.url);
    await Promise.all(Array.from({ length: 12 }, (_, i) => signupUser(a, `${oldPrefix}${String(i).padStart(2, '0')}`)));
  } finally {
    await a.close();
  }

  // One SDL file, no TypeScript, then a generated migration.
  writeFileSync(join(workspace.profilesDir, 'pet.graphql'), PET_SDL);
  const created = await createMigration(loadConfig(env), { name: 'pet' });
  expect(created).toBeDefined();
  migrationFile = join(workspace.migrationsDir, basename(created!.fileName));

  // Server B on the same database: applies the new migration at start.
  server = await startTestServer(env);
});

afterAll(async () => {
  await server?.close();
  await fresh?.drop();
  workspace?.remove();
});

async function signupWithProfiles(identifier: string, profiles: Record<string, unknown>) {
  const res = await server!.gql(SIGNUP_WITH_PROFILES, { identifier, password: GOOD_PASSWORD, profiles });
  if (!res.body.data?.signup) throw new Error(`signup failed: ${res.text}`);
  return res.body.data.signup as { token: string; user: { id: string; identifier: string } };
}

const identifiers = (res: { body: { data?: any; errors?: any } }) => {
  expect(res.body.errors).toBeUndefined();
  return (res.body.data.users.edges as { node: { identifier: string } }[]).map((e) => e.node.identifier);
};

describe('adding a profile with one SDL file and a generated migration', () => {
  it('writes the migration into the migrations folder', () => {
    expect(readdirSync(workspace.migrationsDir)).toContain(basename(migrationFile));
    const code = readFileSync(migrationFile, 'utf8');
    expect(code).toMatch(/create table "profile_pet"/);
    expect(code).not.toMatch(/profile_(mail|account|social)/);
  });

  it('adds User.pet and stores it at signup', async () => {
    const type = await server!.gql(`{ __type(name: "User") { fields { name type { kind ofType { name } } } } }`);
    const pet = type.body.data.__type.fields.find((f: { name: string }) => f.name === 'pet');
    expect(pet).toEqual({ name: 'pet', type: { kind: 'NON_NULL', ofType: { name: 'PetProfile' } } });

    const rex = await signupWithProfiles(`${newPrefix}rex`, { pet: { petName: 'Rex', species: 'DOG' } });
    const me = await server!.gql(`{ me { identifier pet { petName species } } }`, {}, rex.token);
    expect(me.body).toEqual({ data: { me: { identifier: `${newPrefix}rex`, pet: { petName: 'Rex', species: 'DOG' } } } });
  });

  it('filters and sorts users by pet fields, qualified or as data-bag keys', async () => {
    await signupWithProfiles(`${newPrefix}ace`, { pet: { petName: 'Ace', species: 'DOG' } });
    await signupWithProfiles(`${newPrefix}zed`, { pet: { petName: 'Zed', species: 'PARROT' } });
    await signupWithProfiles(`${newPrefix}none`, {});
    const mine = { identifier: { startsWith: newPrefix } };

    const dogs = await server!.gql(USERS, { where: { pet: { species: { eq: 'DOG' } }, ...mine } });
    expect(identifiers(dogs)).toEqual([`${newPrefix}rex`, `${newPrefix}ace`]);

    const byQualified = await server!.gql(USERS, { where: mine, orderBy: [{ field: 'pet.petName' }] });
    expect(identifiers(byQualified)).toEqual(['ace', 'rex', 'zed', 'none'].map((n) => newPrefix + n));

    const byBagKey = await server!.gql(USERS, { where: mine, orderBy: [{ field: 'petName', direction: 'DESC' }] });
    expect(identifiers(byBagKey)).toEqual(['none', 'zed', 'rex', 'ace'].map((n) => newPrefix + n));

    // Users without a row yet match the default (and the query creates no row: see below).
    const oldCats = await server!.gql(USERS, { where: { pet: { species: { eq: 'CAT' } }, identifier: { startsWith: oldPrefix } } });
    expect(oldCats.body.data.users.totalCount).toBe(12);
  });

  it('reads pet values through data and dataAll, with overlaps resolved by precedence', async () => {
    const bo = await signupWithProfiles(`${newPrefix}bo`, {
      pet: { petName: 'Bo', species: 'PARROT', bio: 'pet bio' },
      social: { bio: 'social bio' },
    });
    const res = await server!.gql(
      `query ($id: ID!) { user(id: $id) {
        petName: data(key: "petName")
        species: data(key: "pet.species")
        all: dataAll(key: "species") { profile key value }
        bio: data(key: "bio")
        bios: dataAll(key: "bio") { profile key value }
      } }`,
      { id: bo.user.id },
    );
    expect(res.body).toEqual({
      data: {
        user: {
          petName: 'Bo',
          species: 'PARROT',
          all: [{ profile: 'pet', key: 'pet.species', value: 'PARROT' }],
          bio: 'social bio',
          bios: [
            { profile: 'social', key: 'social.bio', value: 'social bio' },
            { profile: 'pet', key: 'pet.bio', value: 'pet bio' },
          ],
        },
      },
    });
  });

  it('lists pet in the profiles catalog', async () => {
    const res = await server!.gql(`{ profiles {
      installed { name typeName order precedence autoCreate fields { name key type default } }
      overlaps { key qualifiedKeys resolvedBy }
    } }`);
    const { installed, overlaps } = res.body.data.profiles;
    expect(installed.map((p: { name: string }) => p.name)).toEqual(['mail', 'account', 'social', 'pet']);
    const pet = installed.find((p: { name: string }) => p.name === 'pet');
    expect(pet).toMatchObject({ typeName: 'PetProfile', order: 4, precedence: 40, autoCreate: true });
    expect(pet.fields).toEqual([
      { name: 'petName', key: 'pet.petName', type: 'String', default: null },
      { name: 'species', key: 'pet.species', type: 'Species!', default: 'CAT' },
      { name: 'bio', key: 'pet.bio', type: 'String', default: null },
    ]);
    expect(overlaps).toEqual(
      expect.arrayContaining([
        { key: 'email', qualifiedKeys: ['mail.email', 'account.email'], resolvedBy: 'mail' },
        { key: 'bio', qualifiedKeys: ['social.bio', 'pet.bio'], resolvedBy: 'social' },
      ]),
    );
  });

  it('creates the rows of users who signed up before the profile existed lazily, in one insert', async () => {
    server!.resetQueries();
    const first = await server!.gql(OLD_USERS_PETS, { prefix: oldPrefix });
    expect(first.body.errors).toBeUndefined();
    const species = first.body.data.users.edges.map((e: { node: { pet: { species: string } } }) => e.node.pet.species);
    expect(species).toEqual(Array(12).fill('CAT'));
    expect(
      server!.queries.filter((q) => PET_INSERT.test(q)),
      server!.queries.join('\n'),
    ).toHaveLength(1);

    server!.resetQueries();
    const second = await server!.gql(OLD_USERS_PETS, { prefix: oldPrefix });
    expect(second.body).toEqual(first.body);
    expect(
      server!.queries.filter((q) => PET_INSERT.test(q)),
      server!.queries.join('\n'),
    ).toHaveLength(0);
  });
});
