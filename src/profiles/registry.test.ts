import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLError } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { ProfileDefinitionError } from './model.ts';
import { loadProfileRegistry, type ProfileRegistry, type RegistryOptions } from './registry.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A temp profiles folder holding `files` (name → SDL). */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'profilegraph-registry-'));
  dirs.push(dir);
  for (const [name, sdl] of Object.entries(files)) writeFileSync(join(dir, name), sdl);
  return dir;
}

/** `type <Name>Profile @profile(name: "<name>"<args>) { <fields> }` */
const profile = (name: string, fields: string, args = '') =>
  `type ${name[0]!.toUpperCase()}${name.slice(1)}Profile @profile(name: "${name}"${args}) {\n${fields}\n}\n`;

const options = (dir: string, extra: Partial<RegistryOptions> = {}): RegistryOptions => ({
  dir,
  reservedUserFields: ['id', 'identifier', 'data'],
  identifierMaxLength: 150,
  ...extra,
});

async function refusal(promise: Promise<unknown>): Promise<ProfileDefinitionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProfileDefinitionError);
  return error as ProfileDefinitionError;
}

function thrown(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error('expected a GraphQLError');
}

const names = (registry: ProfileRegistry) => registry.profiles.map((p) => p.name);

describe('loadProfileRegistry: start-up refusals', () => {
  it('refuses a profile named like a User field, naming the file', async () => {
    const dir = folder({ 'bag.graphql': profile('data', '  a: String') });
    const error = await refusal(loadProfileRegistry(options(dir)));
    expect(error.message).toContain(join(dir, 'bag.graphql'));
    expect(error.message).toMatch(/profile name "data" clashes with a User \(or UserWhere\) field/);
  });

  it('refuses PROFILES naming a profile that does not exist, listing those found', async () => {
    const dir = folder({ 'a.graphql': profile('alpha', '  a: String'), 'b.graphql': profile('beta', '  b: String') });
    const error = await refusal(loadProfileRegistry(options(dir, { installed: ['alpha', 'gamma'] })));
    expect(error.file).toBe('PROFILES');
    expect(error.message).toMatch(/^PROFILES: lists "gamma", but no profile of that name exists/);
    expect(error.message).toContain('found: alpha, beta');
  });

  it('refuses PROFILES naming a profile twice', async () => {
    const dir = folder({ 'alpha.graphql': profile('alpha', 'note: String') });
    const error = await refusal(loadProfileRegistry(options(dir, { installed: ['alpha', 'alpha'] })));
    expect(error.message).toBe('PROFILES: lists "alpha" twice.');
  });

  it('refuses a minimum identifier length above another profile’s maximum, naming both files', async () => {
    const dir = folder({
      'long.graphql': profile('long', '  a: String', ') @identifier(minLength: 20'),
      'short.graphql': profile('short', '  b: String', ') @identifier(maxLength: 10'),
    });
    const error = await refusal(loadProfileRegistry(options(dir)));
    expect(error.message).toContain(join(dir, 'long.graphql'));
    expect(error.message).toContain(join(dir, 'short.graphql'));
    expect(error.message).toMatch(/"long" requires at least 20 characters, "short" .* at most 10/);
  });

  it('refuses a minimum identifier length above IDENTIFIER_MAX_LENGTH', async () => {
    const dir = folder({ 'long.graphql': profile('long', '  a: String', ') @identifier(minLength: 200') });
    const error = await refusal(loadProfileRegistry(options(dir)));
    expect(error.message).toContain(join(dir, 'long.graphql'));
    expect(error.message).toMatch(/minLength: 200\) of "long" exceeds IDENTIFIER_MAX_LENGTH \(150\)/);
  });

  it('refuses an EMAIL format next to a URL format, naming both files', async () => {
    const dir = folder({
      'mail.graphql': profile('mail', '  a: String', ') @identifier(format: EMAIL'),
      'web.graphql': profile('web', '  b: String', ') @identifier(format: URL'),
    });
    const error = await refusal(loadProfileRegistry(options(dir)));
    expect(error.message).toContain(join(dir, 'mail.graphql'));
    expect(error.message).toContain(join(dir, 'web.graphql'));
    expect(error.message).toMatch(/"mail" requires an email address, "web" .* an absolute URL/);
  });

  it('accepts compatible identifier rules, and contradicting ones of a profile PROFILES leaves out', async () => {
    const dir = folder({
      'a.graphql': profile('a', '  a: String', ') @identifier(format: EMAIL, minLength: 5) @identifier(maxLength: 50'),
      'b.graphql': profile('b', '  b: String', ') @identifier(format: EMAIL, maxLength: 60'),
      'c.graphql': profile('c', '  c: String', ') @identifier(format: URL'),
    });
    await refusal(loadProfileRegistry(options(dir)));
    const registry = await loadProfileRegistry(options(dir, { installed: ['a', 'b'] }));
    expect(names(registry)).toEqual(['a', 'b']);
    expect(registry.discovered.map((p) => p.name)).toEqual(['a', 'b', 'c']);
  });

  it('refuses two files declaring the same profile name', async () => {
    const dir = folder({ 'a.graphql': profile('pet', '  a: String'), 'b.graphql': 'type OtherProfile @profile(name: "pet") { b: String }' });
    const error = await refusal(loadProfileRegistry(options(dir)));
    expect(error.message).toContain(join(dir, 'b.graphql'));
    expect(error.message).toContain(`profile pet is also declared in ${join(dir, 'a.graphql')}`);
  });
});

describe('ProfileRegistry: order and data-bag keys', () => {
  const dir = folder({
    'a.graphql': profile('alpha', '  email: String\n  nick: String\n  tie: String', ', precedence: 30'),
    'b.graphql': profile('beta', '  email: String\n  only: Int', ', precedence: 10'),
    'c.graphql': profile('gamma', '  nick: String\n  tie: String', ''),
    'd.graphql': profile('delta', '  tie: String', ', precedence: 30'),
    'e.graphql': profile('epsilon', '  e: String', ''),
  });

  it('orders installed profiles by declared precedence, unranked last by name', async () => {
    const registry = await loadProfileRegistry(options(dir));
    expect(names(registry)).toEqual(['beta', 'alpha', 'delta', 'epsilon', 'gamma']);
    expect(registry.profiles.map((p) => p.precedence)).toEqual([10, 30, 30, null, null]);
  });

  it('lets PROFILES choose the profiles and their order, overriding declared precedences', async () => {
    const registry = await loadProfileRegistry(options(dir, { installed: ['gamma', 'alpha'] }));
    expect(names(registry)).toEqual(['gamma', 'alpha']);
    expect(registry.profiles.map((p) => p.precedence)).toEqual([0, 1]);
    expect(registry.get('beta')).toBeUndefined();
    expect(registry.discovered).toHaveLength(5);
    // gamma now outranks alpha, and beta's email is not installed.
    expect(registry.resolveForRead('nick').qualifiedKey).toBe('gamma.nick');
    expect(registry.resolveStrict('email').qualifiedKey).toBe('alpha.email');
    expect(registry.overlaps()).toEqual([
      { key: 'nick', qualifiedKeys: ['gamma.nick', 'alpha.nick'], resolvedBy: 'gamma' },
      { key: 'tie', qualifiedKeys: ['gamma.tie', 'alpha.tie'], resolvedBy: 'gamma' },
    ]);
  });

  it('resolves reads of an overlapping key to the lowest precedence', async () => {
    const registry = await loadProfileRegistry(options(dir));
    const email = registry.resolveForRead('email');
    expect(email.qualifiedKey).toBe('beta.email');
    expect(email.profile.name).toBe('beta');
    expect(email.field.name).toBe('email');
    expect(registry.resolveForRead('only').qualifiedKey).toBe('beta.only');
    expect(registry.resolveForRead('alpha.email').qualifiedKey).toBe('alpha.email');
  });

  it('makes reads of an overlapping key ambiguous when a precedence is missing or tied', async () => {
    const registry = await loadProfileRegistry(options(dir));
    const missing = thrown(() => registry.resolveForRead('nick'));
    expect(missing.extensions.code).toBe('PROFILE_KEY_AMBIGUOUS');
    expect(missing.extensions.qualifiedKeys).toEqual(['alpha.nick', 'gamma.nick']);
    expect(missing.message).toContain('alpha.nick, gamma.nick');

    const tied = thrown(() => registry.resolveForRead('tie'));
    expect(tied.extensions.code).toBe('PROFILE_KEY_AMBIGUOUS');
    expect(tied.extensions.qualifiedKeys).toEqual(['alpha.tie', 'delta.tie', 'gamma.tie']);
  });

  it('makes every unqualified overlapping key ambiguous for strict resolution; qualified keys resolve', async () => {
    const registry = await loadProfileRegistry(options(dir));
    const strict = thrown(() => registry.resolveStrict('email'));
    expect(strict.extensions).toMatchObject({ code: 'PROFILE_KEY_AMBIGUOUS', key: 'email', qualifiedKeys: ['beta.email', 'alpha.email'] });
    expect(registry.resolveStrict('alpha.email').profile.name).toBe('alpha');
    expect(registry.resolveStrict('only').qualifiedKey).toBe('beta.only');
  });

  it('refuses unknown keys with PROFILE_KEY_UNKNOWN', async () => {
    const registry = await loadProfileRegistry(options(dir));
    for (const key of ['nothing', 'beta.nothing', 'zeta.email', 'beta.']) {
      for (const resolve of [(k: string) => registry.resolveForRead(k), (k: string) => registry.resolveStrict(k), (k: string) => registry.candidates(k)]) {
        const error = thrown(() => resolve(key));
        expect(error.extensions).toMatchObject({ code: 'PROFILE_KEY_UNKNOWN', key });
      }
    }
  });

  it('lists overlaps with their resolution, and reports them at start-up', async () => {
    const registry = await loadProfileRegistry(options(dir));
    expect(registry.overlaps()).toEqual([
      { key: 'email', qualifiedKeys: ['beta.email', 'alpha.email'], resolvedBy: 'beta' },
      { key: 'nick', qualifiedKeys: ['alpha.nick', 'gamma.nick'], resolvedBy: null },
      { key: 'tie', qualifiedKeys: ['alpha.tie', 'delta.tie', 'gamma.tie'], resolvedBy: null },
    ]);
    expect(registry.report()).toEqual([
      'profile 1. beta (BetaProfile, precedence 10): email, only',
      'profile 2. alpha (AlphaProfile, precedence 30): email, nick, tie',
      'profile 3. delta (DeltaProfile, precedence 30): tie',
      'profile 4. epsilon (EpsilonProfile, precedence none): e',
      'profile 5. gamma (GammaProfile, precedence none): nick, tie',
      'data key "email" is defined by beta.email, alpha.email; data(key: "email") reads beta.email',
      'data key "nick" is defined by alpha.nick, gamma.nick without distinct precedences; data(key: "nick") is an overlap error, use a qualified key',
      'data key "tie" is defined by alpha.tie, delta.tie, gamma.tie without distinct precedences; data(key: "tie") is an overlap error, use a qualified key',
    ]);
  });

  it('reports profiles that are not auto-created', async () => {
    const registry = await loadProfileRegistry(options(folder({ 'm.graphql': profile('manual', '  code: String!', ', autoCreate: false') })));
    expect(registry.report()).toEqual(['profile 1. manual (ManualProfile, precedence none, not auto-created): code']);
    expect(registry.overlaps()).toEqual([]);
  });
});
