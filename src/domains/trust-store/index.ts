import fp from 'fastify-plugin';
import { trustStoreRoutes } from './routes.js';
import { createTrustStoreService } from './service.js';

/** The trust store (API.md §10): trust anchors and pinned keys, stored and audited, never fetched. */
export default fp(
  async (app) => {
    await app.register(trustStoreRoutes, { service: createTrustStoreService({ db: app.db }) });
  },
  { name: 'trust-store', dependencies: ['db', 'auth', 'idempotency'] },
);
