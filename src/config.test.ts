import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { EMAIL_ENV, IDENTIFIER_ENV, PASSWORD_ENV } from './cli/createsuperuser.ts';
import { COMMAND_LINE_VARIABLES, ConfigError, configWarnings, KNOWN_VARIABLES, loadConfig } from './config.ts';

/** The issues of the ConfigError `loadConfig(env)` throws (fails the test when it does not throw). */
function configIssues(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('defaults to the embedded database, development, port 4000 on loopback, Playground on', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.database.migrateOnStart).toBe(true);
    expect(config.database.poolMax).toBe(1);
    expect(config).toMatchObject({ env: 'development', port: 4000, host: '127.0.0.1' });
    expect(config.http).toMatchObject({ playground: true, introspection: true, corsOrigins: [] });
    expect(config.passwords.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('refuses production without SECRETS_KEY, and a key that is not 32 bytes anywhere', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db:5432/app', MAIL_OUTBOX_IN_PRODUCTION: 'true' })).toThrow(
      /SECRETS_KEY: required in production/,
    );
    expect(() => loadConfig({ SECRETS_KEY: 'too short' })).toThrow(/SECRETS_KEY: must be 32 bytes/);
    expect(loadConfig({ SECRETS_KEY: 'ab'.repeat(32) }).secondFactor.secretsKey).toEqual(Buffer.alloc(32, 0xab));
    expect(loadConfig({ SECRETS_KEY: Buffer.alloc(32, 7).toString('base64') }).secondFactor.secretsKey).toEqual(Buffer.alloc(32, 7));
    // Outside production a fixed development key stands in.
    expect(loadConfig({}).secondFactor).toMatchObject({ secretsKeyConfigured: false });
  });

  it('switches production defaults: all interfaces, no Playground, no introspection, no migrations at start', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@db:5432/app',
      MAIL_OUTBOX_IN_PRODUCTION: 'true',
      SECRETS_KEY: 'c3'.repeat(32),
    });
    expect(config).toMatchObject({ host: '0.0.0.0' });
    expect(config.http).toMatchObject({ playground: false, introspection: false });
    expect(config.database).toMatchObject({ url: 'postgres://u@db:5432/app', migrateOnStart: false, poolMax: 10 });
  });

  it('parses lists and booleans, and treats empty strings as unset', () => {
    const config = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', PLAYGROUND: 'off', PORT: '' });
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.http.playground).toBe(false);
    expect(config.port).toBe(4000);
  });

  it('names every invalid variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: '70000', ARGON2_MEMORY_KIB: '1024', NODE_ENV: 'staging', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    for (const name of ['PORT', 'ARGON2_MEMORY_KIB', 'NODE_ENV', 'DATABASE_URL']) expect(issues).toContain(name);
  });

  it('refuses an absolute session timeout shorter than the idle one', () => {
    expect(() => loadConfig({ SESSION_IDLE_TIMEOUT_SECONDS: '3600', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '60' })).toThrow(ConfigError);
  });
});

describe('start-up configuration errors', () => {
  it('lists a TRUSTED_PROXIES entry proxy-addr cannot compile with the other bad variables, and says what PORT wants', () => {
    const issues = configIssues({ TRUSTED_PROXIES: 'loopback, nonsense, 10.0.0.0/8', PORT: 'abc' });
    expect(issues).toEqual([
      'PORT: must be an integer from 0 to 65535, got "abc"',
      'TRUSTED_PROXIES: "nonsense" is not an IP address, a CIDR range, or loopback/linklocal/uniquelocal',
    ]);
    expect(issues.join('\n')).not.toContain('NaN');
    expect(loadConfig({ TRUSTED_PROXIES: 'loopback, uniquelocal, 10.0.0.0/8, ::1' }).trustedHeader.proxies).toHaveLength(4);
  });

  it('refuses fractions and exponents in integers, naming the range', () => {
    expect(configIssues({ ARGON2_TIME_COST: '2.5', MAX_QUERY_COST: '1e3' })).toEqual([
      'MAX_QUERY_COST: must be an integer of at least 1, got "1e3"',
      'ARGON2_TIME_COST: must be an integer of at least 2, got "2.5"',
    ]);
  });
});

describe('configWarnings', () => {
  it('warns on near misses of a known name and on unknown PROFILEGRAPH_ names', () => {
    expect(configWarnings({ DATABSE_URL: 'postgres://db/x', MIGRATE_ON_STRAT: 'false', PROFILEGRAPH_PORT: '1', PROFILEGRAPH_NOPE: '1', port: '80' })).toEqual([
      'unknown variable DATABSE_URL; did you mean DATABASE_URL?',
      'unknown variable MIGRATE_ON_STRAT; did you mean MIGRATE_ON_START?',
      'unknown variable PROFILEGRAPH_NOPE; no setting has this name (see .env.example)',
      'unknown variable PROFILEGRAPH_PORT; did you mean PORT?',
      'unknown variable port; did you mean PORT?',
    ]);
  });

  it('leaves the rest of the environment alone, and knows the command line variables', () => {
    const env = { HOME: '/root', HOSTNAME: 'vm', PATH: '/bin', PWD: '/', PGPORT: '5432', PGHOST: 'db', TEST: '1', NODE_OPTIONS: '', TEST_DATABASE_URL: 'x' };
    expect(configWarnings(env)).toEqual([]);
    expect(configWarnings({ DATABASE_URL: 'postgres://db/x', [PASSWORD_ENV]: 'p', [IDENTIFIER_ENV]: 'i', [EMAIL_ENV]: 'e' })).toEqual([]);
    expect(COMMAND_LINE_VARIABLES).toEqual(expect.arrayContaining([PASSWORD_ENV, IDENTIFIER_ENV, EMAIL_ENV]));
  });
});

describe('.env.example', () => {
  const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  // Every `# NAME=value` line, uncommented: the file as a user enabling all of it would have it.
  const uncommented = parse(
    text
      .split('\n')
      .filter((line) => /^# [A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => line.slice(2))
      .join('\n'),
  );

  it('lists every variable the service reads, and no other', () => {
    const missing = KNOWN_VARIABLES.filter((name) => !(name in uncommented));
    expect(missing, 'variables of src/config.ts missing from .env.example').toEqual([]);
    expect(Object.keys(uncommented).filter((name) => !KNOWN_VARIABLES.includes(name))).toEqual([]);
  });

  it('shows the defaults: uncommenting every line changes nothing', () => {
    expect(loadConfig(uncommented)).toEqual(loadConfig({}));
  });
});
