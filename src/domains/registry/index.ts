import fp from 'fastify-plugin';
import { agentRoutes } from './agent-routes.js';
import { enrollRoutes } from './enroll-routes.js';
import { tokenKeys } from './enrollment-token.js';
import { createEnrollmentService } from './enrollment.js';
import { agentExpiryJob } from './expiry.job.js';
import { createRegistryMetrics } from './metrics.js';
import { createRegistryService } from './service.js';

/** The agent registry: enrollment, registration, discovery, export, expiry. */
export default fp(
  async (app) => {
    const counters = createRegistryMetrics(app.metrics.registry);
    const enrollment = createEnrollmentService({
      pool: app.pool,
      clock: app.clock,
      keys: tokenKeys(app.config.ENROLLMENT_SECRET, app.config.ENROLLMENT_SECRET_PREVIOUS),
      counters,
      pipeline: app.eventPipeline,
      tokenRejected: () => app.metrics.authFailures.inc({ kind: 'enrollment_token' }),
    });
    const registry = createRegistryService({ db: app.db, pool: app.pool, clock: app.clock, counters, pipeline: app.eventPipeline });
    app.decorateRequest('enrollmentGrant', undefined);
    await app.register(enrollRoutes, { enrollment });
    await app.register(agentRoutes, { registry });
    app.jobs.register(agentExpiryJob(registry, app.config.AGENT_EXPIRY_INTERVAL_MS, app.log));
  },
  { name: 'registry', dependencies: ['config', 'db', 'clock', 'jobs', 'metrics', 'auth', 'body', 'idempotency', 'event-pipeline'] },
);
