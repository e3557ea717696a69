import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distance } from 'fastest-levenshtein';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/**
 * Every setting of the service, read from environment variables (and an optional `.env`
 * file loaded by the process entry). Durations are in seconds, sizes in bytes or KiB as named.
 * The README's "Configuration" table mirrors this schema; keep them together.
 */
/**
 * The key of secrets at rest outside production when `SECRETS_KEY` is unset: fixed, so TOTP
 * enrolments survive restarts in development; production refuses to start without a key.
 */
const DEVELOPMENT_SECRETS_KEY = createHash('sha256').update('profilegraph development secrets key; never for production').digest();

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/**
 * A whole number from `min` to `max` written in decimal (`"42"`, `" 7 "`); anything else (`"abc"`,
 * `"1.5"`, `"1e3"`) is one issue saying the allowed range and the value given.
 */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().transform((v, ctx) => {
    const n = /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    ctx.addIssue({ code: 'custom', message: `must be an integer ${range}, got ${JSON.stringify(v)}` });
    return z.NEVER;
  });

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
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 3_600_000).default(5000),
  DATABASE_REPLICA_URLS: list.default([]),
  MIGRATE_ON_START: bool.optional(),
  EMBEDDED_DATA_DIR: z.string().min(1).default('.data/pglite'),

  CORS_ORIGINS: list.default([]),
  BODY_LIMIT_BYTES: int(1024).default(102_400),
  REQUEST_TIMEOUT_SECONDS: int(1, 600).default(30),
  TRUST_PROXY: bool.default(false),
  PLAYGROUND: bool.optional(),
  GRAPHIQL: bool.optional(),
  ACCOUNT_PAGES: bool.default(true),
  INTROSPECTION: bool.optional(),
  SHUTDOWN_TIMEOUT_SECONDS: int(1).default(10),
  FEDERATION: bool.default(false),
  COMPOSITION_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  // Encrypts TOTP secrets at rest (AES-256-GCM): 32 bytes as 64 hex digits or base64. Required in production.
  SECRETS_KEY: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
      if (key.length !== 32) {
        ctx.addIssue({ code: 'custom', message: 'must be 32 bytes: 64 hex digits or base64 (e.g. openssl rand -hex 32)' });
        return z.NEVER;
      }
      return key;
    }),
  TOTP_ISSUER: z.string().min(1).max(100).default('profilegraph'),
  SECOND_FACTOR_CHALLENGE_SECONDS: int(30, 3600).default(300),
  STAFF_REQUIRE_AAL2: bool.default(false),
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),

  PROFILES: list.optional(),
  PROFILES_DIR: z.string().min(1).optional(),
  MIGRATIONS_DIR: z.string().min(1).optional(),
  USERS_PAGE_SIZE: int(1, 10_000).default(20),
  FOLLOW_REQUIRES_CONFIRMATION: bool.default(false),
  USERS_PAGE_MAX: int(1, 10_000).default(100),
  // Query limits (src/query-limits.ts): about twice the costliest of the project's own documents.
  MAX_QUERY_DEPTH: int(1, 1000).default(10),
  MAX_QUERY_ALIASES: int(0, 100_000).default(15),
  MAX_QUERY_TOKENS: int(1, 1_000_000).default(1000),
  MAX_QUERY_DIRECTIVES: int(0, 100_000).default(10),
  MAX_QUERY_FRAGMENTS: int(0, 100_000).default(25),
  MAX_QUERY_COST: int(1).default(3000),
  MAX_SECRET_FIELDS: int(1, 100).default(1),

  IDENTIFIER_MAX_LENGTH: int(1, 1000).default(150),
  PASSWORD_MIN_LENGTH: int(8, 128).default(15),
  PASSWORD_MIN_STRENGTH: int(0, 4).default(3),
  ARGON2_MEMORY_KIB: int(19_456).default(19_456),
  ARGON2_TIME_COST: int(2).default(2),
  ARGON2_PARALLELISM: int(1, 16).default(1),
  ARGON2_MAX_CONCURRENCY: int(1, 64).default(2),

  SESSION_IDLE_TIMEOUT_SECONDS: int(60).default(14 * 24 * 3600),
  SESSION_ABSOLUTE_TIMEOUT_SECONDS: int(60).default(30 * 24 * 3600),
  // Housekeeping (src/modules/housekeeping/pruner.ts): 0 turns the schedule off / keeps audit events forever.
  // At most 2^31 - 1 ms, the longest delay Node's timers take (beyond it they fire after 1 ms).
  PRUNE_INTERVAL_SECONDS: int(0, 2_147_483).default(3600),
  AUDIT_RETENTION_DAYS: int(0).default(365),
  // Webhook delivery (src/modules/webhooks/webhooks.ts): 0 runs no dispatcher in this process.
  WEBHOOK_DISPATCH_INTERVAL_MS: int(0, 2_147_483_647).default(1000),
  WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(8),
  WEBHOOK_RETRY_BASE_MS: int(0, 3_600_000).default(10_000),
  WEBHOOK_TIMEOUT_SECONDS: int(1, 300).default(10),

  LOGIN_MAX_FAILURES_PER_IDENTIFIER: int(1).default(10),
  LOGIN_MAX_FAILURES_PER_ADDRESS: int(1).default(100),
  LOGIN_FAILURE_WINDOW_SECONDS: int(1).default(15 * 60),
  LOGIN_MAX_FAILURES_PER_ACCOUNT_HOUR: int(1).default(100),
  DEVICE_TOKEN_TTL_SECONDS: int(60).default(90 * 24 * 3600),
  TOKEN_MAX_FAILURES_PER_ADDRESS: int(1).default(30),
  SIGNUP_MAX_PER_ADDRESS_HOUR: int(1).default(30),

  TRUSTED_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
    .transform((v) => v.toLowerCase())
    .optional(),
  TRUSTED_PROXIES: list
    .superRefine((entries, ctx) => {
      // Exactly what src/modules/auth/trusted-header.ts compiles: IPs, CIDR ranges, loopback/linklocal/uniquelocal.
      for (const entry of entries) {
        try {
          proxyaddr.compile([entry]);
        } catch {
          ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not an IP address, a CIDR range, or loopback/linklocal/uniquelocal` });
        }
      }
    })
    .default([]),
  TRUSTED_HEADER_CREATE_USERS: bool.default(false),

  EMAIL_CONFIRMATION: z.enum(['none', 'optional', 'required']).default('optional'),
  EMAIL_CONFIRMATION_TTL_SECONDS: int(60).default(24 * 3600),
  PASSWORD_RESET_TTL_SECONDS: int(60).default(3600),
  PUBLIC_URL: z.url().default('http://localhost:4000'),
  MAIL_TRANSPORT: z.enum(['outbox', 'smtp']).default('outbox'),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().min(3).default('profilegraph <no-reply@localhost>'),
  MAIL_OUTBOX_IN_PRODUCTION: bool.default(false),
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
    /** PostgreSQL `statement_timeout` of every pooled connection (real PostgreSQL only), in ms. */
    statementTimeoutMs: number;
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
  /** Bounds checked before an operation runs (src/query-limits.ts; README, "Query limits"). */
  queryLimits: {
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxFragments: number;
    maxCost: number;
    /** Secret-checking fields (`login`, `changePassword`, …) per operation. */
    maxSecretFields: number;
  };
  /** Every follow needs the followee's confirmation, whatever their profile says. */
  followRequiresConfirmation: boolean;
  http: {
    corsOrigins: string[];
    bodyLimitBytes: number;
    /**
     * Bound on receiving one request, in ms: the whole request (headers and body) must arrive
     * within it, and a connection idle that long is closed (Fastify `requestTimeout`, `connectionTimeout`).
     */
    requestTimeoutMs: number;
    trustProxy: boolean;
    /** Serve GraphQL Playground on a browser's `GET /graphql`. */
    playground: boolean;
    /** Serve Ruru (GraphiQL 5) on `GET /graphiql`. */
    graphiql: boolean;
    /** Serve the pages mailed links open by default: `GET /confirm-email`, `GET /reset-password`. */
    accountPages: boolean;
    introspection: boolean;
    shutdownTimeoutMs: number;
    /** Serve an Apollo Federation 2 subgraph (`User @key(fields: "id")`, `_service`, `_entities`). */
    federation: boolean;
    /** Credential gateways send as `x-composition-token` to read `_sdl` (and `_service`) while introspection is off. */
    compositionToken: string | undefined;
  };
  /** Prometheus `GET /metrics` on a server of its own (src/metrics.ts); `port` unset: not served. */
  metrics: { port: number | undefined; host: string };
  accounts: { identifierMaxLength: number };
  passwords: {
    minLength: number;
    /** Least zxcvbn-ts score (0–4) a new password must reach; 0 turns the check off. */
    minStrength: number;
    /** Fixed upper bound: longer inputs are refused before hashing (cheap DoS guard). */
    maxLength: 128;
    argon2: { memoryCost: number; timeCost: number; parallelism: number };
    /** How many argon2 computations may run at once; more only adds latency on 2 cores. */
    maxConcurrentHashes: number;
  };
  sessions: { idleTimeoutMs: number; absoluteTimeoutMs: number };
  /** Second factors (src/modules/second-factor/). */
  secondFactor: {
    /** AES-256-GCM key of secrets at rest: `SECRETS_KEY`, or outside production a fixed development key. */
    secretsKey: Buffer;
    /** Whether `SECRETS_KEY` was given (false: the development key is in use). */
    secretsKeyConfigured: boolean;
    /** `TOTP_ISSUER`: the name authenticator apps show. */
    issuer: string;
    /** Lifetime of a login challenge, in ms. */
    challengeTtlMs: number;
    /** `STAFF_REQUIRE_AAL2`: staff operations need a session that passed a second factor. */
    staffRequireAal2: boolean;
  };
  /** Outbound webhooks (src/modules/webhooks/webhooks.ts). */
  webhooks: {
    /** Poll for due deliveries this often, in ms; 0 runs no dispatcher in this process. */
    dispatchIntervalMs: number;
    /** Attempts per delivery before it is marked `failed`. */
    maxAttempts: number;
    /** Wait before the 2nd attempt, in ms; doubled before each further one, at most one hour. */
    retryBaseMs: number;
    /** Time an endpoint has to answer one attempt, in ms. */
    timeoutMs: number;
  };
  /** Pruning of dead rows (src/modules/housekeeping/pruner.ts). */
  housekeeping: {
    /** Time between two prunes, in ms; 0: no schedule. */
    pruneIntervalMs: number;
    /** Audit events older than this many days are pruned; 0 keeps them forever. */
    auditRetentionDays: number;
  };
  loginThrottle: {
    /** Failed checks per account per client (address, or device token) per window before escalating delays. */
    maxFailuresPerIdentifier: number;
    /** Failed checks per client address per window, over all accounts (clients without a device token). */
    maxFailuresPerAddress: number;
    /** Failed checks per account per hour from clients without a device token of that account. */
    maxFailuresPerAccountHour: number;
    /** Lifetime of a device token, extended on each login that presents it. */
    deviceTokenTtlMs: number;
    /** Uses of mailed tokens and reset requests per client address per window. */
    maxTokenFailuresPerAddress: number;
    /** Signup attempts (each hashes a password) per client address per hour. */
    maxSignupsPerAddressHour: number;
    windowSeconds: number;
  };
  email: {
    /** `none`: no confirmation mail; `optional`: mailed, login allowed; `required`: login needs a confirmed address. */
    confirmation: 'none' | 'optional' | 'required';
    confirmationTtlMs: number;
    passwordResetTtlMs: number;
    /** Base URL of mailed links (the service itself by default: see `accountPages`); they are `<PUBLIC_URL>/confirm-email?token=…` and `/reset-password?token=…`. */
    publicUrl: string;
  };
  mail: {
    transport: 'outbox' | 'smtp';
    smtpUrl: string | undefined;
    from: string;
    /** `MAIL_OUTBOX_IN_PRODUCTION`: production may keep mail (live tokens) in `mail_outbox`. */
    outboxInProduction: boolean;
  };
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
 * Variables read outside this schema, by the command line (`createsuperuser`: see
 * src/cli/createsuperuser.ts). {@link configWarnings} knows them too.
 */
export const COMMAND_LINE_VARIABLES: readonly string[] = [
  'PROFILEGRAPH_SUPERUSER_IDENTIFIER',
  'PROFILEGRAPH_SUPERUSER_PASSWORD',
  'PROFILEGRAPH_SUPERUSER_EMAIL',
];

/** Every variable name the service reads: the schema's keys, then {@link COMMAND_LINE_VARIABLES}. */
export const KNOWN_VARIABLES: readonly string[] = [...Object.keys(envSchema.shape), ...COMMAND_LINE_VARIABLES];

/** The service's own prefix: an unknown name carrying it is always reported. */
const OWN_PREFIX = 'PROFILEGRAPH_';

/**
 * Names in `source` (normally `process.env`, `.env` included) that look like a misspelt setting,
 * one warning line each, e.g. `unknown variable DATABSE_URL; did you mean DATABASE_URL?`.
 * Looking like ours means: prefixed `PROFILEGRAPH_` and not a known name, or within Levenshtein
 * distance 2 (1 for names of 6 characters or fewer, so `HOME`, `PGPORT` are left alone) of a
 * known name, compared in upper case (`port` is reported as a near miss of `PORT`). The rest of
 * the environment is never reported. Distances by `fastest-levenshtein`. Never throws.
 */
export function configWarnings(source: Record<string, string | undefined> = process.env): string[] {
  const known = new Set(KNOWN_VARIABLES);
  const warnings: string[] = [];
  for (const name of Object.keys(source).sort()) {
    if (known.has(name)) continue;
    const upper = name.toUpperCase();
    let best: { key: string; distance: number } | undefined;
    for (const key of KNOWN_VARIABLES) {
      const d = Math.min(distance(upper, key), upper.startsWith(OWN_PREFIX) ? distance(upper.slice(OWN_PREFIX.length), key) : Infinity);
      if (!best || d < best.distance) best = { key, distance: d };
    }
    const near = best && best.distance <= (best.key.length <= 6 ? 1 : 2) ? best.key : undefined;
    if (near) warnings.push(`unknown variable ${name}; did you mean ${near}?`);
    else if (upper.startsWith(OWN_PREFIX)) warnings.push(`unknown variable ${name}; no setting has this name (see .env.example)`);
  }
  return warnings;
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
  if (production && e.MAIL_TRANSPORT === 'outbox' && !e.MAIL_OUTBOX_IN_PRODUCTION) {
    const why = 'the outbox keeps every mail, live reset and confirmation links included, in the mail_outbox table';
    throw new ConfigError([
      raw.MAIL_TRANSPORT
        ? `MAIL_TRANSPORT: outbox is refused in production (${why}); set MAIL_TRANSPORT=smtp and SMTP_URL, or MAIL_OUTBOX_IN_PRODUCTION=true to allow it`
        : `MAIL_TRANSPORT: unset, so mail would go to the outbox, which is refused in production (${why}); set MAIL_TRANSPORT=smtp and SMTP_URL, or MAIL_OUTBOX_IN_PRODUCTION=true to allow the outbox`,
    ]);
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    throw new ConfigError(['METRICS_PORT: must differ from PORT (metrics are never served on the public port)']);
  }
  if (production && !e.SECRETS_KEY) {
    throw new ConfigError(['SECRETS_KEY: required in production (it encrypts TOTP secrets at rest); generate one with openssl rand -hex 32']);
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
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
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
    queryLimits: {
      maxDepth: e.MAX_QUERY_DEPTH,
      maxAliases: e.MAX_QUERY_ALIASES,
      maxTokens: e.MAX_QUERY_TOKENS,
      maxDirectives: e.MAX_QUERY_DIRECTIVES,
      maxFragments: e.MAX_QUERY_FRAGMENTS,
      maxCost: e.MAX_QUERY_COST,
      maxSecretFields: e.MAX_SECRET_FIELDS,
    },
    followRequiresConfirmation: e.FOLLOW_REQUIRES_CONFIRMATION,
    http: {
      corsOrigins: e.CORS_ORIGINS,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
      trustProxy: e.TRUST_PROXY,
      playground: e.PLAYGROUND ?? !production,
      graphiql: e.GRAPHIQL ?? !production,
      accountPages: e.ACCOUNT_PAGES,
      introspection: e.INTROSPECTION ?? !production,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
      federation: e.FEDERATION,
      compositionToken: e.COMPOSITION_TOKEN,
    },
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    accounts: { identifierMaxLength: e.IDENTIFIER_MAX_LENGTH },
    passwords: {
      minLength: e.PASSWORD_MIN_LENGTH,
      minStrength: e.PASSWORD_MIN_STRENGTH,
      maxLength: 128,
      argon2: {
        memoryCost: e.ARGON2_MEMORY_KIB,
        timeCost: e.ARGON2_TIME_COST,
        parallelism: e.ARGON2_PARALLELISM,
      },
      maxConcurrentHashes: e.ARGON2_MAX_CONCURRENCY,
    },
    secondFactor: {
      secretsKey: e.SECRETS_KEY ?? DEVELOPMENT_SECRETS_KEY,
      secretsKeyConfigured: e.SECRETS_KEY !== undefined,
      issuer: e.TOTP_ISSUER,
      challengeTtlMs: e.SECOND_FACTOR_CHALLENGE_SECONDS * 1000,
      staffRequireAal2: e.STAFF_REQUIRE_AAL2,
    },
    sessions: {
      idleTimeoutMs: e.SESSION_IDLE_TIMEOUT_SECONDS * 1000,
      absoluteTimeoutMs: e.SESSION_ABSOLUTE_TIMEOUT_SECONDS * 1000,
    },
    webhooks: {
      dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
    },
    housekeeping: { pruneIntervalMs: e.PRUNE_INTERVAL_SECONDS * 1000, auditRetentionDays: e.AUDIT_RETENTION_DAYS },
    loginThrottle: {
      maxFailuresPerIdentifier: e.LOGIN_MAX_FAILURES_PER_IDENTIFIER,
      maxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS,
      maxFailuresPerAccountHour: e.LOGIN_MAX_FAILURES_PER_ACCOUNT_HOUR,
      deviceTokenTtlMs: e.DEVICE_TOKEN_TTL_SECONDS * 1000,
      maxTokenFailuresPerAddress: e.TOKEN_MAX_FAILURES_PER_ADDRESS,
      maxSignupsPerAddressHour: e.SIGNUP_MAX_PER_ADDRESS_HOUR,
      windowSeconds: e.LOGIN_FAILURE_WINDOW_SECONDS,
    },
    email: {
      confirmation: e.EMAIL_CONFIRMATION,
      confirmationTtlMs: e.EMAIL_CONFIRMATION_TTL_SECONDS * 1000,
      passwordResetTtlMs: e.PASSWORD_RESET_TTL_SECONDS * 1000,
      publicUrl: e.PUBLIC_URL,
    },
    mail: { transport: e.MAIL_TRANSPORT, smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, outboxInProduction: e.MAIL_OUTBOX_IN_PRODUCTION },
    trustedHeader: { header: e.TRUSTED_HEADER, proxies: e.TRUSTED_PROXIES, createUsers: e.TRUSTED_HEADER_CREATE_USERS },
  };
}
