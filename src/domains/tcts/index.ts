import fp from 'fastify-plugin';
import { tctRoutes } from './routes.js';

/** TCTs and delegations as projected from events (API.md §9; the projections are EVENTS.md §4.3–4.5). */
export default fp(
  async (app) => {
    await app.register(tctRoutes);
  },
  { name: 'tcts', dependencies: ['db', 'clock'] },
);
