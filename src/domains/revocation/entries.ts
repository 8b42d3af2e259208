import fp from 'fastify-plugin';
import { revocationRoutes } from './routes.js';

/**
 * POST/GET /api/revocation/entries (API.md §6). Separate from the snapshot plugin because the
 * POST writes a CP event through the events pipeline, registered after the snapshot.
 */
export default fp(
  async (app) => {
    await app.register(revocationRoutes);
  },
  { name: 'revocation-entries', dependencies: ['revocation', 'event-pipeline', 'auth', 'idempotency', 'db', 'clock'] },
);
