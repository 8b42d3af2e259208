import { and, desc, eq, gte, inArray, lte, or, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { auditEvents } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';
import type { EventRecord } from './views.js';

type Reader = Pick<Database, 'select'>;

export interface HistoryFilter {
  /** Already alias-expanded (both `handshake.complete` spellings when either is asked for). */
  types?: string[];
  /** Matches aid_a or aid_b. */
  aid?: string;
  sessionId?: string;
  runId?: string;
  /** Inclusive bounds on `ts`. */
  since?: Date;
  until?: Date;
}

export type StoredEventRow = EventRecord & { createdAt: Date };

function conditions(filter: HistoryFilter): SQL | undefined {
  const parts: Array<SQL | undefined> = [];
  if (filter.types !== undefined) parts.push(inArray(auditEvents.type, filter.types));
  if (filter.aid !== undefined) parts.push(or(eq(auditEvents.aidA, filter.aid), eq(auditEvents.aidB, filter.aid)));
  if (filter.sessionId !== undefined) parts.push(eq(auditEvents.sessionId, filter.sessionId));
  if (filter.runId !== undefined) parts.push(eq(auditEvents.runId, filter.runId));
  if (filter.since !== undefined) parts.push(gte(auditEvents.ts, filter.since));
  if (filter.until !== undefined) parts.push(lte(auditEvents.ts, filter.until));
  return and(...parts);
}

/** The audit_events columns of the Event view (API.md §0.5); other domains select these too. */
export const EVENT_COLUMNS = {
  id: auditEvents.id,
  type: auditEvents.type,
  ts: auditEvents.ts,
  aidA: auditEvents.aidA,
  aidB: auditEvents.aidB,
  sessionId: auditEvents.sessionId,
  runId: auditEvents.runId,
  grants: auditEvents.grants,
  payload: auditEvents.payload,
  source: auditEvents.source,
  createdAt: auditEvents.createdAt,
};

/**
 * One page of events, newest first: `ts` desc, `seq` desc (API.md §3.2), served by
 * audit_events_ts_idx (ts, seq) and the per-filter indexes. Fetches `limit + 1` for `hasMore`.
 */
export async function listHistory(db: Reader, filter: HistoryFilter, page: Page): Promise<StoredEventRow[]> {
  const rows = await db
    .select(EVENT_COLUMNS)
    .from(auditEvents)
    .where(conditions(filter))
    .orderBy(desc(auditEvents.ts), desc(auditEvents.seq))
    .limit(page.limit + 1)
    .offset(page.offset);
  return rows;
}
