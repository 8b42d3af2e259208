import { AS_TEXT, isoOf } from '../../db/raw-query.js';
import type { Queryable } from '../../db/transaction.js';
import type { NewEvent, StoredEvent } from './types.js';
import { toIso } from '../../lib/timestamps.js';

/**
 * NOTIFY payloads stay at most 7,900 bytes (DATA-MODEL.md §NOTIFY). A chunk holds the seqs whose
 * running total of `len(seq) + 1` falls in one CHUNK_CHARS window, so its payload is at most
 * `{"v":1,"seq":[]}` (16) + CHUNK_CHARS + one seq (≤ 19 digits) bytes.
 */
const CHUNK_CHARS = 7_800;

/**
 * The one statement every event batch is stored with (EVENTS.md §3 step 4, §4.6, DATA-MODEL.md
 * §NOTIFY), atomic on its own and inside a caller's transaction alike:
 * - `ins`: insert (column arrays zipped by position; the payloads as one JSON array, which needs no
 *   escaping), ids already stored skipped;
 * - `touched`: last_seen_at = now() for the registered aids of newly inserted, non-CP events
 *   (liveness is what agents report; the CP's own agent.* events say nothing about it). Rows are
 *   locked in aid order and one that another in-flight ingest holds is skipped, since that one is
 *   touching it right now: concurrent batches naming the same agents neither deadlock nor queue
 *   behind each other. The value never moves backwards (now() is the transaction start). Both
 *   lookups are `= ANY(ARRAY(…))` so they use the primary key: joined with the CTE, the planner
 *   scanned the whole agents table per batch;
 * - `notified`: pg_notify('aitp_events', '{"v":1,"seq":[…]}') for the new seqs in ascending
 *   order, chunked (CHUNK_CHARS), sent in chunk order (unnest of an ordered array), delivered at
 *   commit only.
 * Data-modifying CTEs always run; `notified` (volatile, so never inlined) runs once because the
 * final SELECT reads it.
 */
const PERSIST_SQL = `
WITH ins AS (
  INSERT INTO audit_events (id, type, ts, aid_a, aid_b, session_id, run_id, grants, payload, source, producer)
  SELECT * FROM ROWS FROM (
    unnest($1::uuid[]), unnest($2::varchar[]), unnest($3::timestamptz[]), unnest($4::varchar[]), unnest($5::varchar[]),
    unnest($6::varchar[]), unnest($7::varchar[]), unnest($8::jsonb[]), jsonb_array_elements($9::jsonb),
    unnest($10::varchar[]), unnest($11::varchar[])
  )
  ON CONFLICT (id) DO NOTHING
  RETURNING id, seq, created_at, txid, aid_a, aid_b, producer
), touched AS (
  UPDATE agents SET last_seen_at = now()
  WHERE aid = ANY(ARRAY(
    SELECT aid FROM agents
    WHERE aid = ANY(ARRAY(SELECT aid_a FROM ins WHERE producer <> 'cp' UNION SELECT aid_b FROM ins WHERE producer <> 'cp'))
      AND (last_seen_at IS NULL OR last_seen_at < now())
    ORDER BY aid
    FOR UPDATE SKIP LOCKED
  ))
), chunks AS (
  SELECT seq, (sum(length(seq::text) + 1) OVER (ORDER BY seq) - 1) / ${CHUNK_CHARS} AS chunk FROM ins
), notified AS (
  SELECT count(pg_notify('aitp_events', payload)) AS notifications
  FROM unnest(ARRAY(
    SELECT '{"v":1,"seq":[' || string_agg(seq::text, ',' ORDER BY seq) || ']}' FROM chunks GROUP BY chunk ORDER BY chunk
  )) AS payload
)
SELECT ins.id, ins.seq, ins.created_at, ins.txid FROM ins CROSS JOIN notified`;

/** Every column as Postgres' text output: created_at is then converted once per batch, not per row. */
interface PersistedRow {
  id: string;
  seq: string;
  created_at: string;
  txid: string;
}

/**
 * Stores a batch with PERSIST_SQL on `client` (the pool, or a transaction's connection) and
 * returns only the rows that were new, in batch order. A named prepared statement: Postgres
 * parses and plans it once per connection.
 */
export async function storeEvents(client: Queryable, events: readonly NewEvent[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const { rows } = await client.query<PersistedRow>({ name: 'aitp_events_persist', text: PERSIST_SQL, values: columnsOf(events), types: AS_TEXT });
  const assigned = new Map<string, PersistedRow>();
  for (const row of rows) assigned.set(row.id, row);
  const stored: StoredEvent[] = [];
  // Every row of one statement has the same created_at (now()) and txid, so each is converted once.
  let createdText: string | undefined;
  let createdAt = new Date(0);
  let txidText: string | undefined;
  let txid = 0;
  for (const event of events) {
    const row = assigned.get(event.id);
    if (row === undefined) continue;
    if (row.created_at !== createdText) {
      createdText = row.created_at;
      createdAt = new Date(isoOf(createdText));
    }
    if (row.txid !== txidText) {
      txidText = row.txid;
      txid = Number(txidText);
    }
    stored.push(storedEvent(event, Number(row.seq), createdAt, txid));
  }
  return stored;
}

/** Spelled out: an object spread of the event costs ~50 times more (ingest stores ~10^4 events/s). */
function storedEvent(e: NewEvent, seq: number, createdAt: Date, txid: number): StoredEvent {
  const { id, type, ts, aidA, aidB, sessionId, runId, grants, payload, source, producer, payloadJcs } = e;
  return { id, type, ts, aidA, aidB, sessionId, runId, grants, payload, source, producer, payloadJcs, seq, createdAt, txid };
}

/**
 * The eleven parameters of PERSIST_SQL: Postgres array literals, and the payloads' JSON texts
 * joined into one JSON array (each payload was stringified once, by normalize).
 */
function columnsOf(events: readonly NewEvent[]): string[] {
  const cols: Array<Array<string | null>> = Array.from({ length: 11 }, () => []);
  const payloads: string[] = [];
  for (const e of events) {
    cols[0]!.push(e.id);
    cols[1]!.push(e.type);
    cols[2]!.push(toIso(e.ts));
    cols[3]!.push(e.aidA);
    cols[4]!.push(e.aidB);
    cols[5]!.push(e.sessionId);
    cols[6]!.push(e.runId);
    cols[7]!.push(e.grants === null ? null : JSON.stringify(e.grants));
    payloads.push(e.payloadJson ?? JSON.stringify(e.payload));
    cols[9]!.push(e.source);
    cols[10]!.push(e.producer);
  }
  const params = cols.map(arrayLiteral);
  params[8] = `[${payloads.join(',')}]`;
  return params;
}

/** `{"a","b",NULL}`: every element quoted, `"` and `\` escaped (as the pg driver writes arrays). */
function arrayLiteral(values: ReadonlyArray<string | null>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (i > 0) out += ',';
    if (value === null) out += 'NULL';
    else if (value.includes('"') || value.includes('\\')) out += `"${value.replace(/["\\]/g, '\\$&')}"`;
    else out += `"${value}"`;
  }
  return `${out}}`;
}
