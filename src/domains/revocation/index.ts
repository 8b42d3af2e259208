import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { nowSeconds } from '../../lib/clock.js';
import { readAllRevocations } from './repository.js';
import { createRevocationSnapshot, type RevocationSnapshot } from './snapshot.js';

declare module 'fastify' {
  interface FastifyInstance {
    revocationList: RevocationSnapshot & { countUnavailable(): void };
  }
}

/**
 * The per-process signed revocation snapshot (OPERATIONS.md §7.2): first built when the app is
 * ready, rebuilt every REVOCATION_CACHE_TTL_MS and at once on NOTIFY revocation_changed from
 * any replica. Requests never read the database.
 */
export default fp(
  async (app) => {
    const registers = [app.metrics.registry];
    const entriesGauge = new Gauge({ name: 'aitp_control_plane_revocation_list_entries', help: 'entries in the served snapshot', registers });
    let publishedAt: number | undefined;
    new Gauge({
      name: 'aitp_control_plane_revocation_list_snapshot_age_seconds',
      help: 'now minus published_at of the served snapshot',
      registers,
      collect() {
        if (publishedAt !== undefined) this.set(nowSeconds(app.clock) - publishedAt);
      },
    });
    const refreshes = new Counter({
      name: 'aitp_control_plane_revocation_list_refreshes_total',
      help: 'snapshot rebuilds by outcome',
      labelNames: ['outcome'] as const,
      registers,
    });
    const unavailable = new Counter({ name: 'aitp_control_plane_revocation_list_unavailable_total', help: '503s served', registers });
    refreshes.inc({ outcome: 'ok' }, 0);
    refreshes.inc({ outcome: 'error' }, 0);

    const snapshot = createRevocationSnapshot({
      readEntries: () => readAllRevocations(app.db),
      seed: app.identity.seed,
      ttlSecs: app.config.REVOCATION_LIST_TTL_SECS,
      clock: app.clock,
      onRebuilt: (built) => {
        refreshes.inc({ outcome: 'ok' });
        entriesGauge.set(built.entryCount);
        publishedAt = built.publishedAt;
      },
      onError: (err) => {
        refreshes.inc({ outcome: 'error' });
        app.log.error({ err }, 'revocation snapshot rebuild failed');
      },
    });
    app.decorate('revocationList', { ...snapshot, countUnavailable: () => unavailable.inc() });

    app.notify.on('aitp_control', (payload) => {
      if (payload['kind'] === 'revocation_changed') void snapshot.rebuild();
    });
    app.jobs.register({
      name: 'revocation-snapshot',
      intervalMs: app.config.REVOCATION_CACHE_TTL_MS,
      firstRunMs: app.config.REVOCATION_CACHE_TTL_MS,
      run: async () => void (await snapshot.rebuild()),
    });
    // Boot step 8: a failure is logged and the list answers 503 until a rebuild succeeds.
    app.addHook('onReady', async () => {
      await snapshot.rebuild();
    });
  },
  { name: 'revocation', dependencies: ['config', 'db', 'identity', 'notify', 'jobs', 'metrics', 'clock'] },
);
