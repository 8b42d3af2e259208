import fp from 'fastify-plugin';
import { sessionRoutes } from './routes.js';

export { type SessionRow } from './views.js';

/** Handshake sessions as projected from events (API.md §4; the projection is EVENTS.md §4.2). */
export default fp(
  async (app) => {
    await app.register(sessionRoutes);
  },
  { name: 'sessions', dependencies: ['db', 'clock'] },
);
