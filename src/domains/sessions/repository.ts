import { and, asc, desc, eq, gte, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { auditEvents, handshakeSessions } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';
import { EVENT_COLUMNS, type EventRecord } from '../events/index.js';
import type { SessionRow } from './views.js';

type Reader = Pick<Database, 'select'>;

export type EventRow = EventRecord & { createdAt: Date };

export interface SessionFilter {
  status?: SessionRow['status'];
  runId?: string;
  /** aid_a or aid_b. */
  aid?: string;
}

/** One page, `created_at` desc, `session_id` asc (API.md §4.1); `limit + 1` rows for `hasMore`. */
export async function listSessions(db: Reader, filter: SessionFilter, page: Page): Promise<SessionRow[]> {
  return db
    .select()
    .from(handshakeSessions)
    .where(
      and(
        filter.status === undefined ? undefined : eq(handshakeSessions.status, filter.status),
        filter.runId === undefined ? undefined : eq(handshakeSessions.runId, filter.runId),
        filter.aid === undefined ? undefined : or(eq(handshakeSessions.aidA, filter.aid), eq(handshakeSessions.aidB, filter.aid)),
      ),
    )
    .orderBy(desc(handshakeSessions.createdAt), asc(handshakeSessions.sessionId))
    .limit(page.limit + 1)
    .offset(page.offset);
}

export async function findSession(db: Reader, sessionId: string): Promise<SessionRow | undefined> {
  const [row] = await db.select().from(handshakeSessions).where(eq(handshakeSessions.sessionId, sessionId));
  return row;
}

export interface TsRange {
  since?: Date;
  until?: Date;
}

/** A session's events, `ts` asc, `seq` asc, served by audit_events_session_ts_idx. */
export async function sessionEvents(db: Reader, sessionId: string, range: TsRange, page: Page): Promise<EventRow[]> {
  const conditions: SQL[] = [eq(auditEvents.sessionId, sessionId)];
  if (range.since !== undefined) conditions.push(gte(auditEvents.ts, range.since));
  if (range.until !== undefined) conditions.push(lte(auditEvents.ts, range.until));
  return db
    .select(EVENT_COLUMNS)
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(asc(auditEvents.ts), asc(auditEvents.seq))
    .limit(page.limit)
    .offset(page.offset);
}

/** Keyset position in (ts, seq) order; the timestamp as Postgres text keeps its microseconds. */
export interface EventCursor {
  tsKey: string;
  seq: number;
}

export type KeyedEventRow = EventRow & { tsKey: string; seq: number };

/** The next `limit` events of a session after `after`, `ts` asc, `seq` asc (exports). */
export async function sessionEventBatch(db: Reader, sessionId: string, after: EventCursor | undefined, limit: number): Promise<KeyedEventRow[]> {
  return db
    .select({ ...EVENT_COLUMNS, seq: auditEvents.seq, tsKey: sql<string>`${auditEvents.ts}::text` })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.sessionId, sessionId),
        after === undefined ? undefined : sql`(${auditEvents.ts}, ${auditEvents.seq}) > (${after.tsKey}::timestamptz, ${after.seq})`,
      ),
    )
    .orderBy(asc(auditEvents.ts), asc(auditEvents.seq))
    .limit(limit);
}

/** How many events a session has, counting no further than `cap`. */
export async function countSessionEvents(db: Reader, sessionId: string, cap: number): Promise<number> {
  const inner = db.select({ one: sql`1` }).from(auditEvents).where(eq(auditEvents.sessionId, sessionId)).limit(cap).as('capped');
  const [row] = await db.select({ n: sql<string>`count(*)` }).from(inner);
  return Number(row?.n ?? 0);
}
