import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { DashboardAgentsQuerySchema, DashboardAgentsSchema, OverviewQuerySchema, OverviewSchema } from './schemas.js';
import { createDashboardService } from './service.js';

/** GET /api/dashboard/overview, GET /api/dashboard/agents (API.md §8). */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const service = createDashboardService({ db: app.db, clock: app.clock });

  r.get('/api/dashboard/overview', { schema: { querystring: OverviewQuerySchema, response: { 200: OverviewSchema } } }, async (request) =>
    service.overview(request.query),
  );

  r.get(
    '/api/dashboard/agents',
    { schema: { querystring: DashboardAgentsQuerySchema, response: { 200: DashboardAgentsSchema } } },
    async (request) => service.agents(request.query),
  );
}
