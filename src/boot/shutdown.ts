import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export interface ShutdownOptions {
  app: FastifyInstance;
  log: Logger;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  /** Runs after the app (and so the pool) closed: stops the embedded database last. */
  afterClose: () => Promise<void>;
  exit: (code: number) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Graceful drain, OPERATIONS.md §13: readyz 503 at once; after DRAIN_DELAY_MS the listener
 * closes and in-flight work gets SHUTDOWN_TIMEOUT_MS; then the pool and the embedded database
 * stop. Exit 0, or 1 when sockets had to be forced. A second signal exits 1 at once.
 */
export function installShutdown(opts: ShutdownOptions): void {
  const { log } = opts;
  let started = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (started) {
      log.warn({ signal }, 'shutdown: second signal');
      opts.exit(1);
      return;
    }
    started = true;
    void drain(opts, signal).then(
      (code) => opts.exit(code),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        opts.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export async function drain(opts: ShutdownOptions, signal: NodeJS.Signals): Promise<number> {
  const { app, log } = opts;
  app.lifecycle.startDraining();
  log.info({ signal, drainDelayMs: opts.drainDelayMs }, 'shutdown: draining');
  await sleep(opts.drainDelayMs);

  const closing = app.close().then(() => 'closed' as const);
  const timer = sleep(opts.shutdownTimeoutMs).then(() => 'timeout' as const);
  let forced = false;
  if ((await Promise.race([closing, timer])) === 'timeout') {
    forced = true;
    log.warn('shutdown: forced after timeout');
    app.server.closeAllConnections();
    await Promise.race([closing, sleep(5_000)]);
  }
  await opts.afterClose();
  log.info({ forced }, 'shutdown: complete');
  return forced ? 1 : 0;
}
