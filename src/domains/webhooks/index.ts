import fp from 'fastify-plugin';
import { isProduction } from '../../config/index.js';
import { CircuitBreakers } from './breaker.js';
import { postDelivery } from './delivery.js';
import { createDispatcher, DISPATCHER_JOB } from './dispatcher.job.js';
import { createWebhookMetrics } from './metrics.js';
import { createSecretExpiry, SECRET_EXPIRY_INTERVAL_MS, SECRET_EXPIRY_JOB } from './secret-expiry.job.js';
import { createSecretOpener, signingSecrets } from './secrets.js';
import { systemResolver } from './resolver.js';
import { deliveryRoutes, webhookRoutes } from './routes.js';
import { createWebhookService } from './service.js';
import { checkWebhookUrl, type GuardPolicy } from './url-guard.js';

export { enqueueDeliveries, isDeliverable } from './outbox.js';
export { countSealedByKey as countSealedWebhookSecrets } from './repository.js';
export { resealWebhookSecrets, type ResealCounts } from './reseal.js';

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: {
      /** After the commit of an enqueue: counts the rows and pokes the local dispatcher (OPERATIONS.md §10). */
      enqueued(count: number): void;
    };
  }
}

/** An unsettled permit is released this long after WEBHOOK_TIMEOUT_MS (OPERATIONS.md §12.4). */
const PERMIT_GRACE_MS = 30_000;

/** Webhooks: CRUD, the SSRF guard, the outbox dispatcher, breakers, history. */
export default fp(
  async (app) => {
    const { config } = app;
    const breakers = new CircuitBreakers({
      threshold: config.WEBHOOK_BREAKER_FAILURE_THRESHOLD,
      resetMs: config.WEBHOOK_BREAKER_RESET_MS,
      permitTtlMs: config.WEBHOOK_TIMEOUT_MS + PERMIT_GRACE_MS,
      clock: app.clock,
    });
    const metrics = createWebhookMetrics(app.metrics.registry, () => breakers.countByState());
    const policy: GuardPolicy = {
      production: isProduction(config),
      allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      allowlist: config.WEBHOOK_URL_ALLOWLIST,
      resolve: systemResolver(),
    };
    const checkUrl = (url: string) => checkWebhookUrl(url, policy);
    const openSecret = createSecretOpener(app.keyring);
    const dispatcher = createDispatcher({
      db: app.db,
      clock: app.clock,
      log: app.log.child({ job: DISPATCHER_JOB }),
      owner: config.REPLICA_ID,
      concurrency: config.WEBHOOK_CONCURRENCY,
      perTargetConcurrency: config.WEBHOOK_CONCURRENCY_PER_TARGET,
      maxAttempts: config.WEBHOOK_RETRY_ATTEMPTS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      breakers,
      metrics,
      guard: checkUrl,
      post: postDelivery,
      secrets: (webhook, nowMs) => signingSecrets(openSecret, webhook.id, webhook, nowMs),
    });
    // Into the running dispatcher's free slots, or a run now; a no-op while draining or when jobs are off.
    const poke = (): void => {
      if (!dispatcher.poke()) app.jobs.poke(DISPATCHER_JOB);
    };
    const service = createWebhookService({
      db: app.db,
      clock: app.clock,
      keyring: app.keyring,
      defaultOverlapSeconds: config.WEBHOOK_SECRET_OVERLAP_S,
      checkUrl,
      breakers,
      poke,
    });

    app.decorate('webhooks', {
      enqueued(count: number) {
        if (count <= 0) return;
        metrics.enqueued(count);
        poke();
      },
    });
    await app.register(webhookRoutes, { service });
    await app.register(deliveryRoutes, { service });
    app.jobs.register({ name: DISPATCHER_JOB, intervalMs: config.WEBHOOK_POLL_INTERVAL_MS, firstRunMs: 0, run: (signal) => dispatcher.run(signal) });
    const eraseExpired = createSecretExpiry({ db: app.db, clock: app.clock, log: app.log.child({ job: SECRET_EXPIRY_JOB }) });
    app.jobs.register({ name: SECRET_EXPIRY_JOB, intervalMs: SECRET_EXPIRY_INTERVAL_MS, firstRunMs: 0, run: eraseExpired });

    app.notify.on('aitp_control', (payload) => {
      const webhookId = payload['webhookId'];
      if (typeof webhookId !== 'string') return;
      // Reset reaches every replica; a deleted webhook's breaker goes with it (DATA-MODEL.md §NOTIFY).
      if (payload['kind'] === 'breaker_reset' || (payload['kind'] === 'webhook_changed' && payload['deleted'] === true)) breakers.drop(webhookId);
    });
    // Events commit with NOTIFY aitp_events; their outbox rows committed in the same transaction.
    app.notify.on('aitp_events', poke);
  },
  { name: 'webhooks', dependencies: ['config', 'db', 'clock', 'keyring', 'jobs', 'metrics', 'notify', 'auth', 'body', 'idempotency'] },
);
