import { drizzle } from 'drizzle-orm/node-postgres';
import fp from 'fastify-plugin';
import type { Config } from '../../config/index.js';
import { createRetentionMetrics } from './metrics.js';
import { createRetentionSweep, type RetentionSweep, type SweepSettings } from './sweep.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The retention sweep; `run()` sweeps now and returns the result (tests). */
    retention: RetentionSweep;
  }
}

/** OPERATIONS.md §10: the first sweep runs 60 s after boot. */
const FIRST_RUN_MS = 60_000;

export function retentionSettings(config: Config): SweepSettings {
  return {
    enabled: config.RETENTION_ENABLED,
    batchLimit: config.RETENTION_BATCH_LIMIT,
    budgetMs: config.RETENTION_SWEEP_BUDGET_MS,
    ttlDays: {
      idempotency_keys: config.IDEMPOTENCY_KEY_TTL_DAYS,
      webhook_deliveries: config.WEBHOOK_DELIVERY_TTL_DAYS,
      admin_audit_log: config.ADMIN_AUDIT_TTL_DAYS,
      audit_events: config.AUDIT_EVENTS_TTL_DAYS,
      handshake_sessions: config.SESSION_TTL_DAYS,
      agents: config.EXPIRED_AGENT_GRACE_DAYS,
    },
  };
}

/** The retention job (OPERATIONS.md §11): every replica schedules it; the advisory lock lets one sweep at a time. */
export default fp(
  async (app) => {
    const metrics = createRetentionMetrics(app.metrics.registry);
    const log = app.log.child({ job: 'retention' });
    const sweep = createRetentionSweep({
      settings: retentionSettings(app.config),
      connect: async () => {
        const client = await app.pool.connect();
        return { db: drizzle(client), release: (destroy) => client.release(destroy) };
      },
      onChunk: metrics.rowsDeleted,
      onResult: (result, err) => {
        metrics.sweepFinished(result.status, result.durationMs, app.clock.now());
        if (result.status === 'error') log.error({ ...result, err }, 'retention sweep');
        else log.info(result, 'retention sweep');
      },
    });
    app.decorate('retention', sweep);
    app.jobs.register({
      name: 'retention',
      intervalMs: app.config.RETENTION_INTERVAL_MS,
      firstRunMs: FIRST_RUN_MS,
      run: async (signal) => void (await sweep.run(signal)),
    });
  },
  { name: 'retention', dependencies: ['config', 'db', 'jobs', 'metrics', 'clock'] },
);
