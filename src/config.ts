import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Every setting of the service, read from environment variables (and an optional `.env`
 * file loaded by the process entry). Durations are in seconds, sizes in bytes or KiB as named.
 * The README's "Configuration" table mirrors this schema; keep them together.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_MAX: int(1, 1000).default(10),
  DATABASE_REPLICA_URLS: list.default([]),
  MIGRATE_ON_START: bool.optional(),
  EMBEDDED_DATA_DIR: z.string().min(1).default('.data/pglite'),

  CORS_ORIGINS: list.default([]),
  BODY_LIMIT_BYTES: int(1024).default(1_048_576),
  TRUST_PROXY: bool.default(false),
  PLAYGROUND: bool.optional(),
  INTROSPECTION: bool.optional(),
  SHUTDOWN_TIMEOUT_SECONDS: int(1).default(10),
  FEDERATION: bool.default(false),

  PROFILES: list.optional(),
  PROFILES_DIR: z.string().min(1).optional(),
  MIGRATIONS_DIR: z.string().min(1).optional(),
  USERS_PAGE_SIZE: int(1, 10_000).default(20),
  FOLLOW_REQUIRES_CONFIRMATION: bool.default(false),
  USERS_PAGE_MAX: int(1, 10_000).default(100),

  IDENTIFIER_MAX_LENGTH: int(1, 1000).default(150),
  PASSWORD_MIN_LENGTH: int(8, 128).default(12),
  ARGON2_MEMORY_KIB: int(19_456).default(19_456),
  ARGON2_TIME_COST: int(2).default(2),
  ARGON2_PARALLELISM: int(1, 16).default(1),
  ARGON2_MAX_CONCURRENCY: int(1, 64).default(2),

  SESSION_IDLE_TIMEOUT_SECONDS: int(60).default(14 * 24 * 3600),
  SESSION_ABSOLUTE_TIMEOUT_SECONDS: int(60).default(30 * 24 * 3600),

  LOGIN_MAX_FAILURES_PER_IDENTIFIER: int(1).default(10),
  LOGIN_MAX_FAILURES_PER_ADDRESS: int(1).default(100),
  LOGIN_FAILURE_WINDOW_SECONDS: int(1).default(15 * 60),
  TOKEN_MAX_FAILURES_PER_ADDRESS: int(1).default(30),

  TRUSTED_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
    .transform((v) => v.toLowerCase())
    .optional(),
  TRUSTED_PROXIES: list.default([]),
  TRUSTED_HEADER_CREATE_USERS: bool.default(false),

  EMAIL_CONFIRMATION: z.enum(['none', 'optional', 'required']).default('optional'),
  EMAIL_CONFIRMATION_TTL_SECONDS: int(60).default(24 * 3600),
  PASSWORD_RESET_TTL_SECONDS: int(60).default(3600),
  PUBLIC_URL: z.url().default('http://localhost:4000'),
  MAIL_TRANSPORT: z.enum(['outbox', 'smtp']).default('outbox'),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().min(3).default('profilegraph <no-reply@localhost>'),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  logLevel: string;
  database: {
    /** Connection URL of a real PostgreSQL; `undefined` means the embedded PGlite. */
    url: string | undefined;
    poolMax: number;
    replicaUrls: string[];
    migrateOnStart: boolean;
    /** Folder the embedded database persists to; `memory://` keeps it in memory. */
    embeddedDataDir: string;
    /** Folder of the committed migrations. */
    migrationsDir: string;
  };
  profiles: {
    /** Folder of the profile SDL files. */
    dir: string;
    /** `PROFILES`: install exactly these, in this precedence order; `undefined`: all found. */
    installed: string[] | undefined;
  };
  users: { pageSize: number; maxPageSize: number };
  /** Every follow needs the followee's confirmation, whatever their profile says. */
  followRequiresConfirmation: boolean;
  http: {
    corsOrigins: string[];
    bodyLimitBytes: number;
    trustProxy: boolean;
    playground: boolean;
    introspection: boolean;
    shutdownTimeoutMs: number;
    /** Serve an Apollo Federation 2 subgraph (`User @key(fields: "id")`, `_service`, `_entities`). */
    federation: boolean;
  };
  accounts: { identifierMaxLength: number };
  passwords: {
    minLength: number;
    /** Fixed upper bound: longer inputs are refused before hashing (cheap DoS guard). */
    maxLength: 128;
    argon2: { memoryCost: number; timeCost: number; parallelism: number };
    /** How many argon2 computations may run at once; more only adds latency on 2 cores. */
    maxConcurrentHashes: number;
  };
  sessions: { idleTimeoutMs: number; absoluteTimeoutMs: number };
  loginThrottle: {
    maxFailuresPerIdentifier: number;
    maxFailuresPerAddress: number;
    /** Uses of mailed tokens and reset requests per client address per window. */
    maxTokenFailuresPerAddress: number;
    windowSeconds: number;
  };
  email: {
    /** `none`: no confirmation mail; `optional`: mailed, login allowed; `required`: login needs a confirmed address. */
    confirmation: 'none' | 'optional' | 'required';
    confirmationTtlMs: number;
    passwordResetTtlMs: number;
    /** Base URL of the front end; mailed links are `<PUBLIC_URL>/confirm-email?token=…` and `/reset-password?token=…`. */
    publicUrl: string;
  };
  mail: { transport: 'outbox' | 'smtp'; smtpUrl: string | undefined; from: string };
  /** Trusted-header authentication (off unless `header` is set). */
  trustedHeader: { header: string | undefined; proxies: string[]; createUsers: boolean };
}

/** Raised by {@link loadConfig} with one line per invalid variable. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `source` (normally `process.env`) and returns the typed configuration.
 * Empty strings count as unset. Throws {@link ConfigError} naming every bad variable at once.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const keys = Object.keys(envSchema.shape);
  const raw: Record<string, string> = {};
  for (const key of keys) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (e.TRUSTED_HEADER && e.TRUSTED_PROXIES.length === 0) {
    throw new ConfigError(['TRUSTED_PROXIES: required when TRUSTED_HEADER is set (the addresses of the proxies that set it)']);
  }
  if (e.MAIL_TRANSPORT === 'smtp' && !e.SMTP_URL) {
    throw new ConfigError(['SMTP_URL: required when MAIL_TRANSPORT is smtp']);
  }
  if (e.SESSION_ABSOLUTE_TIMEOUT_SECONDS < e.SESSION_IDLE_TIMEOUT_SECONDS) {
    throw new ConfigError(['SESSION_ABSOLUTE_TIMEOUT_SECONDS: must be at least SESSION_IDLE_TIMEOUT_SECONDS']);
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    logLevel: e.LOG_LEVEL,
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_URL ? e.DATABASE_POOL_MAX : 1,
      replicaUrls: e.DATABASE_REPLICA_URLS,
      migrateOnStart: e.MIGRATE_ON_START ?? !e.DATABASE_URL,
      embeddedDataDir: e.EMBEDDED_DATA_DIR,
      migrationsDir: resolve(e.MIGRATIONS_DIR ?? fileURLToPath(new URL('./db/migrations', import.meta.url))),
    },
    profiles: {
      dir: resolve(e.PROFILES_DIR ?? fileURLToPath(new URL('../schema/profiles', import.meta.url))),
      installed: e.PROFILES,
    },
    users: { pageSize: Math.min(e.USERS_PAGE_SIZE, e.USERS_PAGE_MAX), maxPageSize: e.USERS_PAGE_MAX },
    followRequiresConfirmation: e.FOLLOW_REQUIRES_CONFIRMATION,
    http: {
      corsOrigins: e.CORS_ORIGINS,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      trustProxy: e.TRUST_PROXY,
      playground: e.PLAYGROUND ?? !production,
      introspection: e.INTROSPECTION ?? !production,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
      federation: e.FEDERATION,
    },
    accounts: { identifierMaxLength: e.IDENTIFIER_MAX_LENGTH },
    passwords: {
      minLength: e.PASSWORD_MIN_LENGTH,
      maxLength: 128,
      argon2: {
        memoryCost: e.ARGON2_MEMORY_KIB,
        timeCost: e.ARGON2_TIME_COST,
        parallelism: e.ARGON2_PARALLELISM,
      },
      maxConcurrentHashes: e.ARGON2_MAX_CONCURRENCY,
    },
    sessions: {
      idleTimeoutMs: e.SESSION_IDLE_TIMEOUT_SECONDS * 1000,
      absoluteTimeoutMs: e.SESSION_ABSOLUTE_TIMEOUT_SECONDS * 1000,
    },
    loginThrottle: {
      maxFailuresPerIdentifier: e.LOGIN_MAX_FAILURES_PER_IDENTIFIER,
      maxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS,
      maxTokenFailuresPerAddress: e.TOKEN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: e.LOGIN_FAILURE_WINDOW_SECONDS,
    },
    email: {
      confirmation: e.EMAIL_CONFIRMATION,
      confirmationTtlMs: e.EMAIL_CONFIRMATION_TTL_SECONDS * 1000,
      passwordResetTtlMs: e.PASSWORD_RESET_TTL_SECONDS * 1000,
      publicUrl: e.PUBLIC_URL,
    },
    mail: { transport: e.MAIL_TRANSPORT, smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    trustedHeader: { header: e.TRUSTED_HEADER, proxies: e.TRUSTED_PROXIES, createUsers: e.TRUSTED_HEADER_CREATE_USERS },
  };
}
