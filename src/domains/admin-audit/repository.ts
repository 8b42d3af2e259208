import type { Database } from '../../db/client.js';
import { adminAuditLog } from '../../db/schema/index.js';

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
export async function writeAudit(tx: Writer, record: AuditRecord): Promise<void> {
  await tx.insert(adminAuditLog).values(record);
}
