import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { secretsRoutes } from './routes.js';
import { keyUsage } from './service.js';

export { resealAll } from './service.js';

const COLLECT_MS = 30_000;

/**
 * Credentials at rest: the boot line naming key ids in use vs configured, the
 * `sealed_secrets{key_id}` gauge (a 30 s collector, like the other DB-derived gauges), and the
 * re-seal route. A key that is in use but not configured never stops the server: only the
 * credentials sealed under it are unusable until it is restored.
 */
export default fp(
  async (app) => {
    const { keyring } = app;
    const gauge = new Gauge({
      name: 'aitp_control_plane_sealed_secrets',
      help: 'stored sealed credentials by the key id they are sealed under',
      labelNames: ['key_id'] as const,
      registers: [app.metrics.registry],
    });
    const collect = async () => {
      const usage = await keyUsage(app.db, keyring);
      // Key ids no longer in use drop out instead of staying at their last count.
      gauge.reset();
      for (const [keyId, count] of Object.entries(usage.inUse)) gauge.set({ key_id: keyId }, count);
      return usage;
    };

    app.addHook('onReady', async () => {
      const usage = await collect();
      const configured = { current: keyring.current.id, previous: keyring.ids.slice(1) };
      app.log.info({ keyIdsInUse: usage.inUse, keyIdsConfigured: configured }, 'sealed secrets');
      if (usage.missing.length > 0) {
        app.log.warn({ keyIds: usage.missing }, 'sealed secrets under keys that are not configured: their webhook deliveries wait until the key is restored');
      }
    });
    app.jobs.register({
      name: 'sealed-secrets-metrics',
      intervalMs: COLLECT_MS,
      firstRunMs: COLLECT_MS,
      run: async () => void (await collect()),
    });
    await app.register(secretsRoutes, { onResealed: async () => void (await collect()) });
  },
  { name: 'secrets', dependencies: ['db', 'auth', 'keyring', 'jobs', 'metrics', 'webhooks', 'admin-audit'] },
);
