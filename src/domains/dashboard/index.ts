import fp from 'fastify-plugin';
import { dashboardRoutes } from './routes.js';

/** Dashboard JSON for the UI console (API.md §8). */
export default fp(
  async (app) => {
    await app.register(dashboardRoutes);
  },
  { name: 'dashboard', dependencies: ['db', 'clock'] },
);
