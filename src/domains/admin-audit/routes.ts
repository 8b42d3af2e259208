import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { aliased } from '../../lib/query-params.js';
import { listAudit, type AuditRow } from './repository.js';
import { AuditListSchema, AuditQuerySchema, type AuditEntry } from './schemas.js';

function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    action: row.action,
    actorId: row.actorId,
    targetId: row.targetId,
    details: row.details ?? {},
    requestId: row.requestId,
    createdAt: row.createdAt.toISOString(),
  };
}

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
