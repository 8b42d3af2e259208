import fp from 'fastify-plugin';
import type { EventPipeline } from '../events/index.js';
import { createTally } from '../projections/index.js';
import { createPipelineMetrics, recordCommitted } from './metrics.js';
import { needsTransaction, persistEvents } from './pipeline.js';

export { needsTransaction, persistEvents } from './pipeline.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** persistEvents with projection failures logged and metrics applied after commit. */
    eventPipeline: EventPipeline;
  }
}

/**
 * The one write path of every event (store → projections → webhook outbox → NOTIFY, and after
 * commit the audit log's leaf hashes): it depends on events, projections, webhooks and the audit
 * log; none of them depends on it.
 */
export default fp(
  async (app) => {
    const metrics = createPipelineMetrics(app.metrics.registry);
    app.decorate<EventPipeline>('eventPipeline', {
      needsTransaction,
      async persist(tx, events) {
        const tally = createTally();
        const stored = await persistEvents(tx, events, { log: app.log, tally });
        return {
          stored,
          committed: () => {
            recordCommitted(metrics, stored, tally);
            app.auditLog.remember(stored);
            if (tally.deliveriesEnqueued > 0) app.webhooks.enqueued(tally.deliveriesEnqueued);
          },
        };
      },
    });
  },
  { name: 'event-pipeline', dependencies: ['metrics', 'webhooks', 'audit-log'] },
);
