import { sql } from 'drizzle-orm';
import type { EventRecord } from '../events/index.js';

/** An audit_events row read with raw SQL (history, the SSE hub), with what the database assigned. */
export interface EventRow extends EventRecord {
  seq: number;
  createdAt: Date;
}

/** The columns EventRow is built from; name them in this form in raw SELECTs. */
export const EVENT_ROW_COLUMNS = sql.raw('id, type, ts, aid_a, aid_b, session_id, run_id, grants, payload, source, created_at, seq');

export interface RawEventRow {
  id: string;
  type: string;
  ts: Date | string;
  aid_a: string | null;
  aid_b: string | null;
  session_id: string | null;
  run_id: string | null;
  grants: string[] | null;
  payload: unknown;
  source: string | null;
  created_at: Date | string;
  seq: string | number;
}

/** The driver hands timestamptz over as text through raw queries and bigint as a string; jsonb arrives parsed. */
export function toEventRow(row: RawEventRow): EventRow {
  return {
    id: row.id,
    type: row.type,
    ts: new Date(row.ts),
    aidA: row.aid_a,
    aidB: row.aid_b,
    sessionId: row.session_id,
    runId: row.run_id,
    grants: row.grants,
    payload: row.payload,
    source: row.source,
    createdAt: new Date(row.created_at),
    seq: Number(row.seq),
  };
}
