import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { SERVICE_NAME, VERSION } from '../lib/version.js';

const HealthSchema = Type.Object({
  ok: Type.Boolean(),
  service: Type.String(),
  aid: Type.String(),
  db: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  version: Type.String(),
});

const ReadySchema = Type.Object({
  ready: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
});

const probe = { auth: 'public', rateLimit: 'exempt', quietAccessLog: true } as const;

/** Liveness and readiness (OPERATIONS.md §14, API.md §1). */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  // Liveness only (Ruling 25): an orchestrator restarts what fails it, and restarting every
  // replica cannot fix a database outage, so the database shows in the body, never the status.
  app.get('/api/health', { config: probe, schema: { response: { 200: HealthSchema } } }, async (_request, reply) => {
    const up = await app.probeDb();
    reply.header('cache-control', 'no-store');
    return { ok: true, service: SERVICE_NAME, aid: app.identity.aid, db: up ? 'ok' : 'error', version: VERSION } as const;
  });

  app.get(
    '/api/readyz',
    { config: probe, schema: { response: { 200: ReadySchema, 503: ReadySchema } } },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      if (app.lifecycle.draining) return reply.status(503).send({ ready: false, reason: 'shutting_down' });
      if (!(await app.pingDb())) {
        return reply.status(503).send({ ready: false, reason: 'db_unavailable', error: 'database unreachable' });
      }
      if (!app.identity.isManifestUsable()) return reply.status(503).send({ ready: false, reason: 'identity_unavailable' });
      return { ready: true };
    },
  );
}
