import type { FastifyInstance } from 'fastify';

/** Prometheus text; serializes the in-process registry only, never touches the DB (§15). */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/metrics',
    { config: { auth: 'metrics', rateLimit: 'exempt', quietAccessLog: true } },
    async (_request, reply) => {
      for (const collect of app.metrics.collectors) collect();
      const text = await app.metrics.registry.metrics();
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
    },
  );
}
