import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { EVENT_ROW_COLUMNS, toEventRow, type EventRow, type RawEventRow } from './event-rows.js';
import { withAliases } from '../events/index.js';
import type { StreamFilter } from './filter.js';

type Executor = Pick<Database, 'execute'>;

/** An audit_events row as the stream needs it. */
export type StreamRow = EventRow;

const COLUMNS = EVENT_ROW_COLUMNS;

/** The filter as SQL (EVENTS.md §6.2 step 4: applied in SQL, before the backlog cut). */
function where(filter: StreamFilter): SQL {
  const parts: SQL[] = [sql`true`];
  if (filter.types !== undefined) parts.push(sql`type = ANY(${sql.param(withAliases(filter.types))}::varchar[])`);
  if (filter.aid !== undefined) parts.push(sql`(aid_a = ${filter.aid} OR aid_b = ${filter.aid})`);
  if (filter.runId !== undefined) parts.push(sql`run_id = ${filter.runId}`);
  if (filter.sessionId !== undefined) parts.push(sql`session_id = ${filter.sessionId}`);
  return sql.join(parts, sql` AND `);
}

/** The rows a notification announced, in seq order (one query per notification, shared by all streams). */
export async function rowsBySeq(db: Executor, seqs: readonly number[]): Promise<StreamRow[]> {
  const result = await db.execute<RawEventRow & Record<string, unknown>>(sql`SELECT ${COLUMNS} FROM audit_events WHERE seq = ANY(${sql.param([...seqs])}::bigint[]) ORDER BY seq`);
  return result.rows.map(toEventRow);
}

/** The newest `limit` matching rows, oldest first. */
export async function newestRows(db: Executor, filter: StreamFilter, limit: number): Promise<StreamRow[]> {
  if (limit === 0) return [];
  const result = await db.execute<RawEventRow & Record<string, unknown>>(sql`SELECT ${COLUMNS} FROM audit_events WHERE ${where(filter)} ORDER BY seq DESC LIMIT ${limit}`);
  return result.rows.map(toEventRow).reverse();
}

/** Matching rows after `afterSeq`, oldest first, at most `limit`. */
export async function rowsAfter(db: Executor, filter: StreamFilter, afterSeq: number, limit: number): Promise<StreamRow[]> {
  const result = await db.execute<RawEventRow & Record<string, unknown>>(
    sql`SELECT ${COLUMNS} FROM audit_events WHERE seq > ${afterSeq} AND ${where(filter)} ORDER BY seq LIMIT ${limit}`,
  );
  return result.rows.map(toEventRow);
}

/** seq of a stored event id, for Last-Event-ID resume. */
export async function seqOf(db: Executor, id: string): Promise<number | undefined> {
  const result = await db.execute<{ seq: string }>(sql`SELECT seq FROM audit_events WHERE id = ${id}`);
  const row = result.rows[0];
  return row === undefined ? undefined : Number(row.seq);
}

