import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { auditEvents } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';
import { EVENT_ROW_COLUMNS, toEventRow, type RawEventRow } from './event-rows.js';
import type { EventRecord } from './views.js';

type Executor = Pick<Database, 'execute'>;

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

/** The columns of the Event view as a drizzle select map (session detail, replay, export). */
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

const COLUMNS = EVENT_ROW_COLUMNS;
const NEWEST_FIRST = sql.raw('ORDER BY ts DESC, seq DESC');

/** Every filter but `aid`, ANDed, each a plain column predicate the indexes serve. */
function predicates(filter: HistoryFilter): SQL[] {
  const parts: SQL[] = [];
  if (filter.types !== undefined) parts.push(sql`type = ANY(${sql.param(filter.types)}::varchar[])`);
  if (filter.sessionId !== undefined) parts.push(sql`session_id = ${filter.sessionId}`);
  if (filter.runId !== undefined) parts.push(sql`run_id = ${filter.runId}`);
  if (filter.since !== undefined) parts.push(sql`ts >= ${filter.since.toISOString()}::timestamptz`);
  if (filter.until !== undefined) parts.push(sql`ts <= ${filter.until.toISOString()}::timestamptz`);
  return parts;
}

const where = (parts: SQL[]): SQL => (parts.length === 0 ? sql`` : sql`WHERE ${sql.join(parts, sql` AND `)}`);

/**
 * One page of events, newest first: `ts` desc, `seq` desc (API.md §3.2). Fetches `limit + 1`
 * for `hasMore`. Without `aid` the page walks audit_events_ts_idx (ts, seq) backwards. With
 * `aid`, `aid_a = v OR aid_b = v` would make Postgres collect and sort every event of that agent;
 * instead each side walks its own (aid_x, ts) index newest first, at most offset + limit + 1 rows
 * each, and the two ordered runs are merged (a row with aid_a = aid_b = v comes from the first).
 */
export async function listHistory(db: Executor, filter: HistoryFilter, page: Page): Promise<StoredEventRow[]> {
  const rest = predicates(filter);
  const window = sql`LIMIT ${page.limit + 1} OFFSET ${page.offset}`;
  let query: SQL;
  if (filter.aid === undefined) {
    query = sql`SELECT ${COLUMNS} FROM audit_events ${where(rest)} ${NEWEST_FIRST} ${window}`;
  } else {
    const reach = page.offset + page.limit + 1;
    const asA = where([sql`aid_a = ${filter.aid}`, ...rest]);
    const asB = where([sql`aid_b = ${filter.aid}`, sql`aid_a IS DISTINCT FROM ${filter.aid}`, ...rest]);
    query = sql`
      SELECT ${COLUMNS} FROM (
        (SELECT ${COLUMNS} FROM audit_events ${asA} ${NEWEST_FIRST} LIMIT ${reach})
        UNION ALL
        (SELECT ${COLUMNS} FROM audit_events ${asB} ${NEWEST_FIRST} LIMIT ${reach})
      ) AS by_aid ${NEWEST_FIRST} ${window}`;
  }
  const result = await db.execute<RawEventRow & Record<string, unknown>>(query);
  return result.rows.map(toEventRow);
}
