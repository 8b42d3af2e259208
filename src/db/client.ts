import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export type Database = NodePgDatabase<typeof schema>;

export interface PoolSettings {
  connectionString: string;
  max: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** lock_timeout; 0 = wait for locks as long as the statement may run. */
  lockTimeoutMs: number;
  /** Client-side bound on each statement (pg `query_timeout`); 0 = none. */
  queryTimeoutMs: number;
  applicationName: string;
}

export function createPool(settings: PoolSettings): pg.Pool {
  return new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.max,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // OPERATIONS.md §2.9: statement_timeout on every pooled connection. UTC and ISO so timestamps
    // read as text (src/db/raw-query.ts) have one fixed form whatever the server's defaults.
    options: `-c statement_timeout=${settings.statementTimeoutMs} -c lock_timeout=${settings.lockTimeoutMs} -c TimeZone=UTC -c DateStyle=ISO`,
    // The server-side timeouts cannot fire while the database is frozen or the network silent:
    // this one fails the statement (then 503 DB_UNAVAILABLE) from our side.
    ...(settings.queryTimeoutMs > 0 ? { query_timeout: settings.queryTimeoutMs } : {}),
    application_name: settings.applicationName,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
}

export function createDatabase(pool: pg.Pool): Database {
  return drizzle(pool, { schema });
}

/** `SELECT 1` bounded by `timeoutMs`; false on any failure (probes never throw). */
export async function pingDatabase(pool: pg.Pool, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = pool.query('SELECT 1').then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Boot: retry the first connection with backoff for up to `budgetMs` (OPERATIONS.md §5 step 5). */
export async function waitForDatabase(pool: pg.Pool, budgetMs: number, onRetry: (err: unknown) => void): Promise<void> {
  const deadline = Date.now() + budgetMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() + delay > deadline) throw err;
      onRetry(err);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
