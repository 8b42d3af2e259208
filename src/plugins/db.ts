import fp from 'fastify-plugin';
import type pg from 'pg';
import { createDatabase, createPool, pingDatabase, waitForDatabase, type Database } from '../db/client.js';
import { applyMigrations, countPendingMigrations } from '../db/migrate.js';
import { serverMisconfigured } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    pool: pg.Pool;
    db: Database;
    /** `SELECT 1` within 2 s (OPERATIONS.md §14). */
    pingDb: () => Promise<boolean>;
  }
}

const CONNECT_BUDGET_MS = 30_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * The pool, drizzle, and boot steps 5–6 of OPERATIONS.md §5: wait for the database (retry up to
 * 30 s), then apply migrations under the advisory lock (or, with MIGRATE_ON_BOOT=false, refuse
 * to start while any are pending); plain credentials of an older release are sealed on the way.
 */
export default fp(
  async (app) => {
    const { config } = app;
    if (config.DATABASE_URL === undefined) throw serverMisconfigured('DATABASE_URL is not set');
    const pool = createPool({
      connectionString: config.DATABASE_URL,
      max: config.DB_POOL_MAX,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      applicationName: `aitp-control-plane:${config.REPLICA_ID}`.slice(0, 63),
    });
    // An idle client's error (server restart, network cut) must never crash the process (§16).
    pool.on('error', (err) => app.log.error({ err }, 'db pool error'));
    // The pool listens only to idle clients: a checked-out client whose backend dies between two
    // queries (terminated, database restarted) emits 'error' with no listener, which would crash
    // the process. Its next query then fails (DB_UNAVAILABLE) and the pool discards it on release.
    pool.on('connect', (client) =>
      client.on('error', (err) => {
        if (client.listenerCount('error') === 1) app.log.error({ err }, 'db pool error');
      }),
    );
    app.decorate('pool', pool);
    app.decorate('db', createDatabase(pool));
    app.decorate('pingDb', () => pingDatabase(pool, PROBE_TIMEOUT_MS));
    app.metrics.collectors.push(() => {
      app.metrics.dbPoolConnections.set({ state: 'total' }, pool.totalCount);
      app.metrics.dbPoolConnections.set({ state: 'idle' }, pool.idleCount);
      app.metrics.dbPoolConnections.set({ state: 'waiting' }, pool.waitingCount);
    });
    app.addHook('onClose', async () => {
      if (!pool.ended) await pool.end();
    });

    await waitForDatabase(pool, CONNECT_BUDGET_MS, (err) => app.log.warn({ err }, 'database not reachable yet, retrying'));
    if (config.MIGRATE_ON_BOOT) {
      await applyMigrations(pool, { keyring: app.keyring });
    } else {
      const pending = await countPendingMigrations(pool);
      if (pending > 0) throw new Error(`${pending} database migration(s) pending and MIGRATE_ON_BOOT=false`);
    }
  },
  { name: 'db', dependencies: ['metrics', 'keyring'] },
);
