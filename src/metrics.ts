import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from './modules/events/events.ts';

/** What the pool gauges read at each scrape: `pg`'s `Pool` counters (node-postgres, "Pool" API). */
export interface PoolCounts {
  /** Connections open, checked out or idle. */
  totalCount: number;
  /** Open connections not checked out. */
  idleCount: number;
  /** Queries queued for a connection because every one is checked out. */
  waitingCount: number;
}

/** Where {@link Metrics} reads values that are only worth reading at scrape time. */
export interface MetricsSources {
  /** The primary's connection pool (MikroORM 7: `em.getConnection().getNativeClient()`). */
  pool?: () => PoolCounts | Promise<PoolCounts>;
  /** The argon2 limiter's counts (`PasswordHasher.queue`). */
  passwordQueue?: () => { active: number; pending: number };
}

/** Operation names become label values only if they look like GraphQL names… */
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** …and only this many distinct ones; later names are counted as `other`. */
const MAX_OPERATION_NAMES = 200;
/** Error codes are upper-case identifiers (src/errors.ts, Apollo's); anything else is `OTHER`. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Seconds; argon2id at the default cost takes tens of milliseconds, a queue seconds. */
const HASH_WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The service's Prometheus metrics, on a registry of its own (never prom-client's global one,
 * so several apps in one process, as in the tests, keep separate counts). Every name is in the
 * README, "Operations: metrics". Counters are fed by the Apollo plugin ({@link graphqlPlugin}),
 * the event bus ({@link observeEvents}) and the callbacks below; gauges are read at scrape time.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();
  private readonly requests = new Counter({
    name: 'profilegraph_graphql_requests_total',
    help: 'GraphQL requests by operation name and outcome (error: the response carries errors)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'profilegraph_graphql_request_duration_seconds',
    help: 'Time from receiving a GraphQL request to sending its response, in seconds',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'profilegraph_graphql_errors_total',
    help: 'GraphQL errors by extensions.code (INTERNAL_SERVER_ERROR for unexpected ones)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly hashWait = new Histogram({
    name: 'profilegraph_password_hash_wait_seconds',
    help: 'Time an argon2 (or imported Django) hash computation waited for a free slot, in seconds',
    buckets: HASH_WAIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly loginFailures = new Counter({
    name: 'profilegraph_login_failures_total',
    help: 'Failed logins by reason (rate_limited: refused by the login throttle)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly mail = new Counter({
    name: 'profilegraph_mail_deliveries_total',
    help: 'Mail deliveries by outcome (delivered: accepted by the transport; failed: logged and dropped)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly webhooks = new Counter({
    name: 'profilegraph_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retry: will be attempted again, failed: gave up)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricsSources = {}) {
    collectDefaultMetrics({ register: this.registry });
    const { pool, passwordQueue } = sources;
    if (passwordQueue) {
      new Gauge({
        name: 'profilegraph_password_hash_queue_length',
        help: 'argon2 (or imported Django) hash computations waiting for a free slot (ARGON2_MAX_CONCURRENCY)',
        registers: [this.registry],
        collect() {
          this.set(passwordQueue().pending);
        },
      });
    }
    if (pool) this.poolGauges(pool);
  }

  /** Records one mail delivery's outcome (`Mailer`'s `onOutcome`). */
  readonly mailOutcome = (outcome: 'delivered' | 'failed'): void => void this.mail.inc({ outcome });
  /** Records one webhook attempt's outcome (`WebhookDispatcher`'s `onOutcome`). */
  readonly webhookOutcome = (outcome: 'delivered' | 'retry' | 'failed'): void => void this.webhooks.inc({ outcome });
  /** Records how long one hash computation waited, in seconds (`PasswordHasher`'s `onWait`). */
  readonly passwordHashWait = (seconds: number): void => this.hashWait.observe(seconds);

  /** Counts `auth.login_failed` events by reason. Returns the unsubscribe function. */
  observeEvents(events: EventBus): () => void {
    return events.on('auth.login_failed', (event) => void this.loginFailures.inc({ reason: event.data.reason }));
  }

  /**
   * An Apollo Server plugin counting each request (by operation name and outcome), timing it,
   * and counting its errors by code. Errors are seen before `formatError` masks them, so an
   * unexpected one counts as `INTERNAL_SERVER_ERROR`, as the client sees it.
   */
  graphqlPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
    return {
      requestDidStart: async () => {
        const started = performance.now();
        let failed = false;
        return {
          didEncounterErrors: async ({ errors }) => {
            failed = true;
            for (const error of errors) this.errors.inc({ code: errorCode(error.extensions.code) });
          },
          willSendResponse: async ({ operationName, request, response }) => {
            const operation = this.operationLabel(operationName ?? request.operationName);
            const hasErrors = failed || (response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0);
            this.requests.inc({ operation, outcome: hasErrors ? 'error' : 'ok' });
            this.duration.observe({ operation }, (performance.now() - started) / 1000);
          },
        };
      },
    };
  }

  /** `anonymous`, the name itself while few distinct names were seen, else `other`. */
  private operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }

  private poolGauges(read: () => PoolCounts | Promise<PoolCounts>): void {
    const gauge = (name: string, help: string, value: (counts: PoolCounts) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          this.set(value(await read()));
        },
      });
    gauge(
      'profilegraph_db_pool_connections_in_use',
      'Connections of the primary pool checked out by a query or transaction',
      (c) => c.totalCount - c.idleCount,
    );
    gauge('profilegraph_db_pool_connections_idle', 'Open connections of the primary pool not checked out', (c) => c.idleCount);
    gauge('profilegraph_db_pool_waiting_requests', 'Queries waiting for a connection of the primary pool (all checked out)', (c) => c.waitingCount);
  }
}

function errorCode(code: unknown): string {
  if (code === undefined || code === null) return 'INTERNAL_SERVER_ERROR';
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'OTHER';
}

/** A listening metrics endpoint: its base URL (`http://host:port`) and how to stop it. */
export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (the Prometheus text format, `registry.contentType`) on its own
 * `node:http` server at `host:port` (port 0: any free one); every other path is 404. Kept off the
 * public server so the metrics are reachable only where the operator binds them.
 */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostPart}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
