import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { AuditListSchema, AuditQuerySchema } from './schemas.js';
import { createAuditService } from './service.js';

/** GET /api/audit (API.md §5): API key, newest first. */
export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const service = createAuditService({ db: app.db });
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/audit',
    { schema: { querystring: AuditQuerySchema, response: { 200: AuditListSchema } } },
    async (request) => service.list(request.query),
  );
}
