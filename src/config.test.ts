import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

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

  it('switches production defaults: all interfaces, no Playground, no introspection, no migrations at start', () => {
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db:5432/app', MAIL_OUTBOX_IN_PRODUCTION: 'true' });
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
