import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { DelegationListSchema, DelegationQuerySchema, TctListSchema, TctQuerySchema } from './schemas.js';
import { createTctService } from './service.js';

/** GET /api/tcts, GET /api/delegations (API.md §9). */
export async function tctRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const service = createTctService({ db: app.db, clock: app.clock });

  r.get('/api/tcts', { schema: { querystring: TctQuerySchema, response: { 200: TctListSchema } } }, async (request) =>
    service.listTcts(request.query),
  );

  r.get('/api/delegations', { schema: { querystring: DelegationQuerySchema, response: { 200: DelegationListSchema } } }, async (request) =>
    service.listDelegations(request.query),
  );
}
