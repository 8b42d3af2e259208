import type { FastifyInstance } from 'fastify';
import { handshakeUnsupported } from '../lib/errors.js';

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The CP manifest's handshake_endpoint points here; the control plane never takes part in a
 * handshake, so every method answers 501 rather than 404 (API.md §1, SPEC.md Decisions).
 */
export async function handshakeRoutes(app: FastifyInstance): Promise<void> {
  for (const url of ['/api/aitp/handshake', '/api/aitp/handshake/*']) {
    app.route({
      method: [...ALL_METHODS],
      url,
      config: { auth: 'public' },
      handler: async () => {
        throw handshakeUnsupported();
      },
    });
  }
}
