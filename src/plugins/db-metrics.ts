import { sql } from 'drizzle-orm';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';

const COLLECT_MS = 30_000;

/**
 * DB-derived gauges (OPERATIONS.md §15) from a 30 s collector, so a scrape never queries the
 * database. Two cheap grouped counts served by the status indexes. On failure the gauges keep
 * their last values and db_up drops to 0.
 */
export default fp(
  async (app) => {
    const registers = [app.metrics.registry];
    const gauge = (name: string, help: string, labelNames: readonly string[] = []) =>
      new Gauge({ name: `aitp_control_plane_${name}`, help, labelNames: [...labelNames], registers });
    const agents = {
      active: gauge('agents_active', 'agents with status active'),
      expired: gauge('agents_expired', 'agents with status expired'),
      deregistered: gauge('agents_deregistered', 'agents with status deregistered'),
    };
    const deliveries = gauge('webhook_deliveries', 'webhook deliveries by status', ['status']);
    const dbUp = gauge('db_up', '1 if the last collector run reached the database');

    const collect = async (): Promise<void> => {
      try {
        const [agentRows, deliveryRows] = await Promise.all([
          app.db.execute<{ status: string; n: string }>(sql`SELECT status, count(*) AS n FROM agents GROUP BY status`),
          app.db.execute<{ status: string; n: string }>(
            sql`SELECT status, count(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'failed') GROUP BY status`,
          ),
        ]);
        const byStatus = new Map(agentRows.rows.map((r) => [r.status, Number(r.n)]));
        for (const [status, g] of Object.entries(agents)) g.set(byStatus.get(status) ?? 0);
        const byDelivery = new Map(deliveryRows.rows.map((r) => [r.status, Number(r.n)]));
        for (const status of ['pending', 'failed']) deliveries.set({ status }, byDelivery.get(status) ?? 0);
        dbUp.set(1);
      } catch (err) {
        dbUp.set(0);
        app.log.warn({ err }, 'metrics collector failed');
      }
    };

    app.jobs.register({ name: 'db-metrics', intervalMs: COLLECT_MS, firstRunMs: 0, run: collect });
    app.addHook('onReady', collect);
  },
  { name: 'db-metrics', dependencies: ['db', 'jobs', 'metrics'] },
);
