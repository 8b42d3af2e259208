import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { aliased } from '../../lib/query.js';
import { listAudit } from './repository.js';
import { AuditListSchema, AuditQuerySchema } from './schemas.js';
import { toAuditEntry } from './views.js';

/** GET /api/audit (API.md §5): API key, newest first. */
export async function auditRoutes(app: FastifyInstance): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/audit',
    { schema: { querystring: AuditQuerySchema, response: { 200: AuditListSchema } } },
    async (request) => {
      const q = request.query;
      const page = parsePage(q, { defaultLimit: 100, maxLimit: 1000 });
      const filter = { action: q.action, actorId: aliased(q.actor_id, q.actorId), targetId: aliased(q.target_id, q.targetId) };
      const rows = await listAudit(app.db, filter, page);
      return listEnvelope('entries', rows.map(toAuditEntry), page);
    },
  );
}
