import fp from 'fastify-plugin';
import type pg from 'pg';
import { createDatabase, createPool, pingDatabase, waitForDatabase, type Database } from '../db/client.js';
import { applyMigrations, countPendingMigrations } from '../db/migrate.js';
import { createDbProbe } from '../db/probe.js';
import { atStep } from '../lib/boot-step.js';
import { serverMisconfigured } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    pool: pg.Pool;
    db: Database;
    /** `SELECT 1` through the pool within 2 s: readiness (OPERATIONS.md §14). */
    pingDb: () => Promise<boolean>;
    /** `SELECT 1` on the probe's own connection within 500 ms, never a pool wait: liveness (Ruling 25). */
    probeDb: () => Promise<boolean>;
  }
}

const CONNECT_BUDGET_MS = 30_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Half the 1 s the liveness answer may take (API.md §1), so the reply itself fits in the rest. */
const LIVENESS_PROBE_TIMEOUT_MS = 500;

/**
 * The pool, drizzle, and boot steps 5–6 of OPERATIONS.md §5: wait for the database (retry up to
 * 30 s), then apply migrations under the advisory lock (or, with MIGRATE_ON_BOOT=false, refuse
 * to start while any are pending); plain credentials of an older release are sealed on the way.
 */
export default fp(
  async (app) => {
    const { config } = app;
    if (config.DATABASE_URL === undefined) throw serverMisconfigured('DATABASE_URL is not set');
    const settings = {
      connectionString: config.DATABASE_URL,
      max: config.DB_POOL_MAX,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.DB_LOCK_TIMEOUT_MS,
      queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
      applicationName: `aitp-control-plane:${config.REPLICA_ID}`.slice(0, 63),
    };
    const pool = createPool(settings);
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
    const probe = createDbProbe({
      connectionString: config.DATABASE_URL,
      applicationName: `aitp-control-plane-probe:${config.REPLICA_ID}`.slice(0, 63),
      timeoutMs: LIVENESS_PROBE_TIMEOUT_MS,
    });
    app.decorate('probeDb', () => probe.ping());
    app.metrics.collectors.push(() => {
      app.metrics.dbPoolConnections.set({ state: 'total' }, pool.totalCount);
      app.metrics.dbPoolConnections.set({ state: 'idle' }, pool.idleCount);
      app.metrics.dbPoolConnections.set({ state: 'waiting' }, pool.waitingCount);
    });
    app.addHook('onClose', async () => {
      await probe.close();
      if (!pool.ended) await pool.end();
    });

    await atStep('database', () =>
      waitForDatabase(pool, CONNECT_BUDGET_MS, (err) => app.log.warn({ err }, 'database not reachable yet, retrying')),
    );
    // Opens the probe's connection now, so the first liveness answer is a query, not a connect.
    await probe.ping();
    await atStep('migrations', async () => {
      if (config.MIGRATE_ON_BOOT) {
        // Migrations wait on the advisory lock while another replica migrates and may rewrite big
        // tables: their own short-lived pool, without the request-sized lock and client timeouts.
        const migrationPool = createPool({ ...settings, max: 1, lockTimeoutMs: 0, queryTimeoutMs: 0 });
        migrationPool.on('error', (err) => app.log.error({ err }, 'db pool error'));
        try {
          await applyMigrations(migrationPool, { keyring: app.keyring });
        } finally {
          await migrationPool.end();
        }
      } else {
        const pending = await countPendingMigrations(pool);
        if (pending > 0) throw new Error(`${pending} database migration(s) pending and MIGRATE_ON_BOOT=false`);
      }
    });
  },
  { name: 'db', dependencies: ['config', 'metrics', 'keyring'] },
);
