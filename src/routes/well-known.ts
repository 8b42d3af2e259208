import type { FastifyInstance, FastifyReply } from 'fastify';
import { nowSeconds } from '../lib/clock.js';
import { revocationUnavailable, serverMisconfigured } from '../lib/errors.js';

const documentRoute = { config: { auth: 'public', rateLimit: 'exempt' } } as const;

function sendSigned(reply: FastifyReply, body: string, maxAge: number): FastifyReply {
  return reply
    .header('cache-control', `max-age=${Math.max(0, maxAge)}`)
    .type('application/json; charset=utf-8')
    .send(body);
}

/** The CP's signed documents, served as the exact signed bytes (API.md §1, SPEC.md §7.2). */
export async function wellKnownRoutes(app: FastifyInstance): Promise<void> {
  const manifest = async (_request: unknown, reply: FastifyReply) => {
    const current = app.identity.manifest();
    if (current === undefined) throw serverMisconfigured('no unexpired CP manifest is available');
    return sendSigned(reply, current.body, Math.min(3600, current.expiresAt - nowSeconds(app.clock)));
  };
  app.get('/.well-known/aitp-manifest', documentRoute, manifest);
  app.get('/api/well-known/aitp-manifest', documentRoute, manifest);

  const revocationList = async (_request: unknown, reply: FastifyReply) => {
    const current = app.revocationList.current();
    if (current === undefined) {
      app.revocationList.countUnavailable();
      throw revocationUnavailable();
    }
    return sendSigned(reply, current.body, Math.min(60, current.expiresAt - nowSeconds(app.clock)));
  };
  app.get('/.well-known/aitp-revocation-list', documentRoute, revocationList);
  app.get('/api/well-known/aitp-revocation-list', documentRoute, revocationList);
}
