import fp from 'fastify-plugin';
import { createEventMetrics } from './metrics.js';
import { eventRoutes } from './routes.js';
import { createEventsService } from './service.js';

// The event kernel other domains build on: one event model, the audit_events reads and writes.
export { cpEvent } from './cp-events.js';
export { deriveEventId, isUuid, uuidFromDigest } from './event-id.js';
/** The Event view columns of a text row: history and the audit log's leaves render them with eventJson. */
export { EVENT_COLUMNS, VIEW_COLUMNS as EVENT_VIEW_COLUMNS } from './history-repository.js';
export { storeEvents } from './repository.js';
export { INGEST_BODY_LIMIT } from './routes.js';
export { EventSchema } from './schemas.js';
export { normalizedType, withAliases, type EventPipeline, type NewEvent, type StoredEvent } from './types.js';
export { eventJson, toEventView, toStreamRecord, type EventRecord, type EventView, type StreamRecord } from './views.js';

/** Event ingest and history (API.md §3.1, §3.2); what is stored goes through app.eventPipeline. */
export default fp(
  async (app) => {
    const metrics = createEventMetrics(app.metrics.registry);
    const service = createEventsService({ db: app.db, pool: app.pool, clock: app.clock, pipeline: app.eventPipeline, metrics });
    await app.register(eventRoutes, { service, metrics });
  },
  { name: 'events', dependencies: ['config', 'db', 'metrics', 'clock', 'event-pipeline', 'idempotency', 'auth', 'body'] },
);
