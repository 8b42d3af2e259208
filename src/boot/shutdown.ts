import closeWithGrace from 'close-with-grace';
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

/** How long the forced close may still take after SHUTDOWN_TIMEOUT_MS (see drain). */
const FORCED_CLOSE_MS = 5_000;
/** Room for afterClose (the embedded database stops) before the process gives up on the drain. */
const AFTER_CLOSE_MS = 30_000;

/** close-with-grace's events we leave alone: the orchestrator stops us with SIGTERM (SIGINT by hand). */
const NOT_SHUTDOWN = ['SIGHUP', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGUSR2', 'beforeExit'] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The one way the process ends (OPERATIONS.md §13), whatever starts it: SIGTERM, SIGINT, an
 * uncaught exception or an unhandled rejection. The error is logged with its stack, then the
 * same drain runs; exit 0 after a clean drain on a signal, 1 after an error, a forced close or a
 * failed drain. A second signal or error exits 1 at once.
 */
export function installShutdown(opts: ShutdownOptions): void {
  const { log } = opts;
  closeWithGrace(
    {
      delay: opts.drainDelayMs + opts.shutdownTimeoutMs + FORCED_CLOSE_MS + AFTER_CLOSE_MS,
      logger: false,
      skip: [...NOT_SHUTDOWN],
      onSecondSignal: (signal) => {
        log.warn({ signal }, 'shutdown: second signal');
        opts.exit(1);
      },
      onSecondError: (err) => {
        log.fatal({ err }, 'shutdown: second error');
        opts.exit(1);
      },
      onTimeout: (delayMs) => {
        log.error({ delayMs }, 'shutdown: drain did not finish');
        opts.exit(1);
      },
    },
    async ({ signal, err }) => {
      if (err !== undefined) log.fatal({ err }, 'crashed: draining');
      try {
        const code = await drain(opts, signal ?? 'error');
        opts.exit(err !== undefined ? 1 : code);
      } catch (drainErr) {
        log.error({ err: drainErr }, 'shutdown failed');
        opts.exit(1);
      }
    },
  );
}

/**
 * Graceful drain: readyz 503 at once; after DRAIN_DELAY_MS the listener closes and in-flight
 * work gets SHUTDOWN_TIMEOUT_MS; then the pool and the embedded database stop. Returns 0, or 1
 * when sockets had to be forced.
 */
export async function drain(opts: ShutdownOptions, reason: string): Promise<number> {
  const { app, log } = opts;
  app.lifecycle.startDraining();
  log.info({ signal: reason, drainDelayMs: opts.drainDelayMs }, 'shutdown: draining');
  await sleep(opts.drainDelayMs);

  const closing = app.close().then(() => 'closed' as const);
  const timer = sleep(opts.shutdownTimeoutMs).then(() => 'timeout' as const);
  let forced = false;
  if ((await Promise.race([closing, timer])) === 'timeout') {
    forced = true;
    log.warn('shutdown: forced after timeout');
    app.server.closeAllConnections();
    await Promise.race([closing, sleep(FORCED_CLOSE_MS)]);
  }
  await opts.afterClose();
  log.info({ forced }, 'shutdown: complete');
  return forced ? 1 : 0;
}
