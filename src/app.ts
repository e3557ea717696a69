import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import cors from '@fastify/cors';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { COMPOSITION_TOKEN_HEADER, createContext } from './context.ts';
import type { Database } from './db/orm.ts';
import { createFormatError } from './errors.ts';
import { inputHygienePlugin } from './input-hygiene.ts';
import { Metrics, serveMetrics, type MetricsServer } from './metrics.ts';
import { noSuggestionsPlugin } from './no-suggestions.ts';
import type { PasswordHasher } from './modules/auth/password-hasher.ts';
import { Pruner } from './modules/housekeeping/pruner.ts';
import { WebhookDispatcher } from './modules/webhooks/webhooks.ts';
import type { MailTransport } from './modules/mail/mailer.ts';
import { registerAccountPages } from './account-pages.ts';
import { ideUnavailablePage, registerGraphiql } from './graphiql.ts';
import { playgroundLandingPagePlugin, registerPlaygroundAssets, staticLandingPagePlugin } from './playground.ts';
import { queryLimitRules, queryParseOptions, type QueryLimits } from './query-limits.ts';
import type { ProfileRegistry } from './profiles/registry.ts';
import type { RequestScope } from './request.ts';
import { buildSchema } from './schema.ts';
import { createServices, type Services } from './services.ts';

/** Replaceable collaborators at the true boundaries (time, argon2, mail delivery), for tests. */
export interface AppDeps {
  clock?: Clock;
  passwordHasher?: PasswordHasher;
  mailTransport?: MailTransport;
}

/** A built, not yet listening, service. `close()` drains requests and releases its pools. */
export interface App {
  http: FastifyInstance;
  services: Services;
  /** The scheduled pruning of dead rows (started here, stopped by `close()`); `runOnce()` prunes now. */
  pruner: Pruner;
  /** Delivers queued webhooks (`WEBHOOK_DISPATCH_INTERVAL_MS`; 0: never started). */
  webhookDispatcher: WebhookDispatcher;
  /** The Prometheus metrics, when `METRICS_PORT` is set. */
  metrics: Metrics | undefined;
  /** Base URL of the metrics server (`GET <metricsUrl>/metrics`), listening once built; unset without `METRICS_PORT`. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

const PLAYGROUND_ASSETS = '/playground/';
/** Idle keep-alive connections are kept this long: Fastify's default, above common load balancers' 60 s. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

function trustedHeaderValue(headers: Record<string, string | string[] | undefined>, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

/**
 * Builds the HTTP server (Fastify 5) with Apollo Server 5 at `/graphql`, `/healthz`,
 * `/readyz`, CORS from `config.http.corsOrigins`, the body-size limit and, when enabled,
 * GraphQL Playground (browser `GET /graphql`) and Ruru (`GET /graphiql`) with every asset served
 * locally, or pages saying why they are unavailable while introspection is off, and starts the schedule of the
 * {@link Pruner} (`PRUNE_INTERVAL_SECONDS`). Does not listen; the caller does. The one exception:
 * with `METRICS_PORT` set, the Prometheus endpoint (src/metrics.ts) listens at once on
 * `METRICS_HOST:METRICS_PORT`, a server of its own, never the public one.
 */
export async function createApp(config: Config, db: Database, registry: ProfileRegistry, logger: Logger, deps: AppDeps = {}): Promise<App> {
  const metrics =
    config.metrics.port === undefined
      ? undefined
      : new Metrics({ pool: () => db.orm.em.getConnection().getNativeClient(), passwordQueue: () => services.passwords.queue });
  const services = createServices(config, registry, {
    ...(metrics ? { onPasswordHashWait: metrics.passwordHashWait, onMailOutcome: metrics.mailOutcome } : {}),
    clock: deps.clock ?? systemClock,
    em: db.orm.em,
    logger,
    ...(deps.passwordHasher ? { passwordHasher: deps.passwordHasher } : {}),
    ...(deps.mailTransport ? { mailTransport: deps.mailTransport } : {}),
  });

  const http = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics Fastify cannot infer here.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    // A request must arrive whole (headers and body) within requestTimeoutMs, and a socket idle
    // that long is closed: a client stalling mid-headers or mid-body holds a connection no longer.
    connectionTimeout: config.http.requestTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Node checks request and header deadlines every connectionsCheckingInterval (default 30 s).
    http: { headersTimeout: config.http.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.http.requestTimeoutMs) },
  });
  let shuttingDown = false;

  http.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'request failed');
    void reply.status(status).send({ error: status === 500 ? 'Internal Server Error' : error.message });
  });

  await http.register(cors, {
    origin: config.http.corsOrigins.length ? config.http.corsOrigins : false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name'],
    maxAge: 600,
  });

  http.get('/healthz', async () => ({ status: 'ok' }));
  http.get('/readyz', async (_request, reply) => {
    if (shuttingDown) return reply.status(503).send({ status: 'shutting down' });
    try {
      await db.orm.em.fork().execute('select 1');
      return { status: 'ready' };
    } catch (err) {
      http.log.warn({ err }, 'readiness check failed');
      return reply.status(503).send({ status: 'database unavailable' });
    }
  });

  // An IDE needs introspection; without it (production's default) it would spin forever, so it
  // is replaced by a page that says why and what to set.
  const ideUsable = config.http.introspection;
  if ((config.http.playground || config.http.graphiql) && !ideUsable) {
    logger.warn('PLAYGROUND/GRAPHIQL are on but INTROSPECTION is off: the IDE pages only say so; set INTROSPECTION=true to use them');
  }
  if (config.http.playground && ideUsable) await registerPlaygroundAssets(http, { assetsPrefix: PLAYGROUND_ASSETS });
  if (config.http.accountPages) registerAccountPages(http);
  if (config.http.graphiql) {
    await registerGraphiql(http, { path: '/graphiql', endpoint: '/graphql', ...(ideUsable ? {} : { unavailable: ideUnavailablePage('GraphiQL') }) });
  }

  const queryLimits: QueryLimits = { ...config.queryLimits, pageSize: { defaultSize: config.users.pageSize, maxSize: config.users.maxPageSize } };
  const apollo = new ApolloServer<RequestScope>({
    // Bounded cost before execution: too many tokens is a parse error, the other limits are
    // validation errors (HTTP 400 either way, and no resolver runs).
    parseOptions: queryParseOptions(queryLimits),
    validationRules: queryLimitRules(queryLimits),
    schema: buildSchema(registry, services, { federation: config.http.federation, maxKeys: config.users.maxPageSize }),
    introspection: config.http.introspection,
    // No "Did you mean …?" in validation errors while the schema is not public.
    hideSchemaDetailsFromClientErrors: !config.http.introspection,
    includeStacktraceInErrorResponses: false,
    // The process entry owns SIGTERM/SIGINT and closes the app, then the database.
    stopOnTerminationSignals: false,
    formatError: createFormatError(logger),
    plugins: [
      fastifyApolloDrainPlugin(http),
      // No cache hints are used; the default cache-control plugin would visit every field.
      ApolloServerPluginCacheControlDisabled(),
      inputHygienePlugin(),
      ...(metrics ? [metrics.graphqlPlugin<RequestScope>()] : []),
      // Nor in the coercion errors of variables.
      ...(config.http.introspection ? [] : [noSuggestionsPlugin()]),
      !config.http.playground
        ? ApolloServerPluginLandingPageDisabled()
        : ideUsable
          ? playgroundLandingPagePlugin({ endpoint: '/graphql', assetsPrefix: PLAYGROUND_ASSETS })
          : staticLandingPagePlugin(ideUnavailablePage('GraphQL Playground')),
    ],
  });
  await apollo.start();
  await http.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    context: async (request) =>
      createContext(services, db.orm.em, {
        authorization: request.headers.authorization,
        clientAddress: request.ip,
        peerAddress: request.socket.remoteAddress,
        trustedIdentity: trustedHeaderValue(request.headers, config.trustedHeader.header),
        compositionToken: trustedHeaderValue(request.headers, COMPOSITION_TOKEN_HEADER),
        userAgent: request.headers['user-agent'],
      }),
  });

  // Scheduled here, never in the CLI runtime (src/cli/runtime.ts builds the services alone).
  const pruner = new Pruner(db.orm.em, deps.clock ?? systemClock, logger, config);
  pruner.start();
  const webhookDispatcher = new WebhookDispatcher(db.orm.em, deps.clock ?? systemClock, logger, config.webhooks, metrics?.webhookOutcome);
  webhookDispatcher.start();
  metrics?.observeEvents(services.events);
  let metricsServer: MetricsServer | undefined;
  if (metrics && config.metrics.port !== undefined) {
    try {
      metricsServer = await serveMetrics(metrics, config.metrics.host, config.metrics.port);
    } catch (error) {
      // The port is taken (or the host unknown): nothing of this app may keep running.
      await Promise.all([pruner.stop(), webhookDispatcher.stop(), apollo.stop()]);
      throw error;
    }
    logger.info({ url: `${metricsServer.url}/metrics` }, 'metrics served');
  }

  return {
    http,
    services,
    pruner,
    webhookDispatcher,
    metrics,
    metricsUrl: metricsServer?.url,
    async close() {
      shuttingDown = true;
      await metricsServer?.close();
      await pruner.stop();
      await webhookDispatcher.stop();
      // Apollo's drain plugin closes Fastify (stops accepting, waits for in-flight
      // requests, then cuts idle connections); closing Fastify first would leave it waiting.
      await apollo.stop();
      await services.background.drain();
      await services.mailer.close();
    },
  };
}
