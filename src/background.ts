import type { Logger } from 'pino';

/**
 * Work started by a request but finished after its response (mail after commit, password
 * reset lookups whose timing must not depend on the account existing). Errors are logged,
 * never thrown back; `drain()` waits for everything in flight (shutdown, tests).
 */
export class BackgroundTasks {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Runs `task` on a later turn of the event loop. */
  run(name: string, task: () => Promise<void>): void {
    const promise = new Promise<void>((resolve) => setImmediate(resolve))
      .then(task)
      .catch((err: unknown) => this.logger.error({ err, task: name }, 'background task failed'))
      .finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }

  /** Resolves when every task started so far (and any they start) has settled. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }
}
