import fp from 'fastify-plugin';
import { createTally } from '../projections/index.js';
import { createEventMetrics, recordCommitted } from './metrics.js';
import { persistEvents } from './pipeline.js';
import { eventRoutes } from './routes.js';
import { createEventsService, type EventPipeline } from './service.js';

/** The Event view (API.md §0.5) as JSON text from a text row of these columns: history and the audit log's leaves. */
export { VIEW_COLUMNS as EVENT_VIEW_COLUMNS } from './history-repository.js';
export { eventJson } from './views.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * persistEvents with projection failures logged and event/projection metrics applied after
     * commit. CP-emitted events use it too: `const r = await app.eventPipeline.persist(tx, [...])`
     * inside the transaction, `r.committed()` after it.
     */
    eventPipeline: EventPipeline;
  }
}

/** Event ingest and history (API.md §3.1, §3.2) and the projections behind them (EVENTS.md §4). */
export default fp(
  async (app) => {
    const metrics = createEventMetrics(app.metrics.registry);
    const pipeline: EventPipeline = {
      async persist(tx, events) {
        const tally = createTally();
        const stored = await persistEvents(tx, events, { log: app.log, tally });
        return {
          stored,
          committed: () => {
            recordCommitted(metrics, stored, tally);
            if (tally.deliveriesEnqueued > 0) app.webhooks.enqueued(tally.deliveriesEnqueued);
          },
        };
      },
    };
    app.decorate('eventPipeline', pipeline);
    const service = createEventsService({ db: app.db, pool: app.pool, clock: app.clock, pipeline, metrics });
    await app.register(eventRoutes, { service, metrics });
  },
  { name: 'events', dependencies: ['db', 'metrics', 'clock'] },
);
