import type { Database } from '../../db/client.js';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { aliased } from '../../lib/query-params.js';
import { listAudit } from './repository.js';
import type { AuditQuery } from './schemas.js';
import { toAuditEntry } from './views.js';

const AUDIT_PAGE = { defaultLimit: 100, maxLimit: 1000 };

export function createAuditService(deps: { db: Pick<Database, 'select'> }) {
  return {
    /** GET /api/audit (API.md §5): newest first. */
    async list(query: AuditQuery) {
      const page = parsePage(query, AUDIT_PAGE);
      const filter = { action: query.action, actorId: aliased(query.actor_id, query.actorId), targetId: aliased(query.target_id, query.targetId) };
      const rows = await listAudit(deps.db, filter, page);
      return listEnvelope('entries', rows.map(toAuditEntry), page);
    },
  };
}
