import fp from 'fastify-plugin';
import { streamRoutes } from './routes.js';

/** The live event stream (EVENTS.md §6): the route; the hub itself is sse-hub.ts. */
export default fp(
  async (app) => {
    await app.register(streamRoutes);
  },
  { name: 'stream', dependencies: ['config', 'db', 'auth', 'client-ip', 'lifecycle', 'sse-hub'] },
);
