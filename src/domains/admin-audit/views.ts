import type { AuditRow } from './repository.js';
import type { AuditEntry } from './schemas.js';

/** The AuditEntry view (API.md §0.5): GET /api/audit and the audit log's admin leaves. */
export function toAuditEntry(row: Omit<AuditRow, 'txid'>): AuditEntry {
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
