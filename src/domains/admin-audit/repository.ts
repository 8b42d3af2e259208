import { and, asc, desc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { adminAuditLog } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';

type Writer = Pick<Database, 'insert'>;

export interface AuditRecord {
  /** API.md §5 action name, e.g. `agent.register`. */
  action: string;
  /** `apikey:<16 hex>`, `agent:<aid>`, `anonymous` or `system`. */
  actorId: string;
  targetId: string | null;
  /** Never a secret (API.md §5). */
  details: Record<string, unknown>;
  requestId: string | null;
}

/** One admin audit row, written in the transaction of the change it records. */
export async function recordAudit(tx: Writer, record: AuditRecord): Promise<void> {
  await tx.insert(adminAuditLog).values(record);
}

export type AuditRow = typeof adminAuditLog.$inferSelect;

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetId?: string;
}

/** GET /api/audit (API.md §5): `limit + 1` rows, `created_at` desc, `id` asc. */
export async function listAudit(db: Pick<Database, 'select'>, filter: AuditFilter, page: Page): Promise<AuditRow[]> {
  const conditions = [
    filter.action === undefined ? undefined : eq(adminAuditLog.action, filter.action),
    filter.actorId === undefined ? undefined : eq(adminAuditLog.actorId, filter.actorId),
    filter.targetId === undefined ? undefined : eq(adminAuditLog.targetId, filter.targetId),
  ];
  return db
    .select()
    .from(adminAuditLog)
    .where(and(...conditions))
    .orderBy(desc(adminAuditLog.createdAt), asc(adminAuditLog.id))
    .limit(page.limit + 1)
    .offset(page.offset);
}
