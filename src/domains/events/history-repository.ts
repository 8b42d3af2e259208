import { queryText, type TextRow } from '../../db/raw-query.js';
import { auditEvents } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';

type Queryable = Parameters<typeof queryText>[0];

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

/** The Event view's columns (API.md §0.5), read as text (src/db/raw-query.ts). */
export const VIEW_COLUMNS = 'id, type, ts, aid_a, aid_b, session_id, run_id, grants, payload, source, created_at';
const NEWEST_FIRST = 'ORDER BY ts DESC, seq DESC';

/** Every filter but `aid`, ANDed, each a plain column predicate the indexes serve; values become parameters. */
function predicates(filter: HistoryFilter, values: unknown[]): string[] {
  const parts: string[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  if (filter.types !== undefined) parts.push(`type = ANY(${bind(filter.types)}::varchar[])`);
  if (filter.sessionId !== undefined) parts.push(`session_id = ${bind(filter.sessionId)}`);
  if (filter.runId !== undefined) parts.push(`run_id = ${bind(filter.runId)}`);
  if (filter.since !== undefined) parts.push(`ts >= ${bind(filter.since.toISOString())}::timestamptz`);
  if (filter.until !== undefined) parts.push(`ts <= ${bind(filter.until.toISOString())}::timestamptz`);
  return parts;
}

const where = (parts: string[]): string => (parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`);

/** What a history read returns per row: the Event view's columns, or only the row's `seq`. */
type Selection = { outer: string; inner: string };
const FULL_ROWS: Selection = { outer: `${VIEW_COLUMNS}, seq`, inner: `${VIEW_COLUMNS}, seq` }; // seq keys the rendered row
const SEQS_ONLY: Selection = { outer: 'seq', inner: 'seq, ts' };

/**
 * One page of events, newest first: `ts` desc, `seq` desc (API.md §3.2). Fetches `limit + 1`
 * for `hasMore`. Without `aid` the page walks audit_events_ts_idx (ts, seq) backwards. With
 * `aid`, `aid_a = v OR aid_b = v` would make Postgres collect and sort every event of that agent;
 * instead each side walks its own (aid_x, ts) index newest first, at most offset + limit + 1 rows
 * each, and the two ordered runs are merged (a row with aid_a = aid_b = v comes from the first).
 * The text depends only on which filters are present: one prepared statement per combination.
 */
function pageQuery(filter: HistoryFilter, page: Page, select: Selection): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const rest = predicates(filter, values);
  let text: string;
  if (filter.aid === undefined) {
    text = `SELECT ${select.outer} FROM audit_events ${where(rest)} ${NEWEST_FIRST}`;
  } else {
    const aid = `$${values.push(filter.aid)}`;
    const reach = `$${values.push(page.offset + page.limit + 1)}`;
    const asA = where([`aid_a = ${aid}`, ...rest]);
    const asB = where([`aid_b = ${aid}`, `aid_a IS DISTINCT FROM ${aid}`, ...rest]);
    text = `SELECT ${select.outer} FROM (
        (SELECT ${select.inner} FROM audit_events ${asA} ${NEWEST_FIRST} LIMIT ${reach})
        UNION ALL
        (SELECT ${select.inner} FROM audit_events ${asB} ${NEWEST_FIRST} LIMIT ${reach})
      ) AS by_aid ${NEWEST_FIRST}`;
  }
  text += ` LIMIT $${values.push(page.limit + 1)} OFFSET $${values.push(page.offset)}`;
  return { text, values };
}

/** The page's rows with every Event view column and `seq`, in one statement. */
export async function listHistory(pool: Queryable, filter: HistoryFilter, page: Page): Promise<TextRow[]> {
  const { text, values } = pageQuery(filter, page, FULL_ROWS);
  return queryText(pool, text, values);
}

/**
 * Only the page's `seq`s, in page order: the same walk, but no row is rendered by Postgres (the
 * view columns of a stored event never change, so they are read once per seq:
 * src/lib/rendered-page.ts).
 */
export async function listHistorySeqs(pool: Queryable, filter: HistoryFilter, page: Page): Promise<string[]> {
  const { text, values } = pageQuery(filter, page, SEQS_ONLY);
  return (await queryText(pool, text, values)).map((row) => row['seq']!);
}

/** The Event view columns and `seq` of the given events, in no particular order. */
export async function findEventsBySeq(pool: Queryable, seqs: string[]): Promise<TextRow[]> {
  return queryText(pool, `SELECT ${VIEW_COLUMNS}, seq FROM audit_events WHERE seq = ANY($1::bigint[])`, [seqs]);
}
