import { createServer } from 'node:net';
import { EmbeddedPostgresStartError, startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from '../db/embedded.js';

/** Ports tried after the configured one fails to start. */
const FALLBACK_ATTEMPTS = 2;

/**
 * Development's embedded PostgreSQL (OPERATIONS.md §6) on EMBEDDED_PG_PORT, or, when it cannot
 * start there (the port is taken, often by a stale or foreign Postgres), on a port the OS reports
 * free: a developer's server should come up rather than fail on a port clash. Only a failed start
 * moves; a data directory in use by a live instance is not a port problem and fails at once.
 */
export async function startDevDatabase(
  opts: EmbeddedPostgresOptions,
  onFallback: (failure: EmbeddedPostgresStartError, nextPort: number) => void,
): Promise<EmbeddedPostgres> {
  let port = opts.port;
  for (let attempt = 0; ; attempt++) {
    try {
      return await startEmbeddedPostgres({ ...opts, port });
    } catch (err) {
      if (!(err instanceof EmbeddedPostgresStartError) || attempt === FALLBACK_ATTEMPTS) throw err;
      port = await freePort();
      onFallback(err, port);
    }
  }
}

/** A TCP port on 127.0.0.1 the OS just handed out (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}
