import fp from 'fastify-plugin';
import { tctRoutes } from './routes.js';

// What the sessions domain reads: a session's TCTs.
export { countSessionTcts, sessionTctBatch, type TctCursor } from './repository.js';
export { type TctRecord } from './schemas.js';
export { toTctRecord } from './views.js';

/** TCTs and delegations as projected from events (API.md §9; the projections are EVENTS.md §4.3–4.5). */
export default fp(
  async (app) => {
    await app.register(tctRoutes);
  },
  { name: 'tcts', dependencies: ['db', 'clock'] },
);
