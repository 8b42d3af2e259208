import { jsonIso, type TextRow } from '../../db/raw-query.js';
import { jsonString } from '../../lib/json-text.js';
import { toIso } from '../../lib/timestamps.js';

/** The columns every event view is built from (a stored row or a just-inserted event). */
export interface EventRecord {
  id: string;
  type: string;
  ts: Date;
  aidA: string | null;
  aidB: string | null;
  sessionId: string | null;
  runId: string | null;
  grants: string[] | null;
  payload: unknown;
  source: string | null;
}

/** API.md §0.5 Event: history, session detail, replay, exports. */
export interface EventView {
  id: string;
  type: string;
  ts: string;
  aidA: string | null;
  aidB: string | null;
  sessionId: string | null;
  runId: string | null;
  grants: string[] | null;
  payload: unknown;
  source: string | null;
  createdAt: string;
}

export function toEventView(row: EventRecord & { createdAt: Date }): EventView {
  return {
    id: row.id,
    type: row.type,
    ts: toIso(row.ts),
    aidA: row.aidA,
    aidB: row.aidB,
    sessionId: row.sessionId,
    runId: row.runId,
    grants: row.grants,
    payload: row.payload,
    source: row.source,
    createdAt: toIso(row.createdAt),
  };
}

/** The stream record: SSE `data:` and the webhook `payload` (EVENTS.md §6.1, §5.3). */
export type StreamRecord = { id: string; type: string; ts: string; payload: unknown } & Partial<{
  aidA: string;
  aidB: string;
  sessionId: string;
  runId: string;
  grants: string[];
  source: string;
}>;

/**
 * Keys in exactly this order with null ones omitted, `type` verbatim, `ts` ISO (EVENTS.md §6.1).
 * Receivers parse webhook bodies byte for byte, so the order is load-bearing (§5.3).
 */
export function toStreamRecord(event: EventRecord): StreamRecord {
  const record: Record<string, unknown> = { id: event.id, type: event.type, ts: toIso(event.ts) };
  if (event.aidA !== null) record['aidA'] = event.aidA;
  if (event.aidB !== null) record['aidB'] = event.aidB;
  if (event.sessionId !== null) record['sessionId'] = event.sessionId;
  if (event.runId !== null) record['runId'] = event.runId;
  if (event.grants !== null) record['grants'] = event.grants;
  record['payload'] = event.payload;
  if (event.source !== null) record['source'] = event.source;
  return record as StreamRecord;
}

/**
 * The Event view (API.md §0.5) as JSON text from a history row (src/db/raw-query.ts), in
 * EventSchema's key order; `grants` and `payload` are jsonb text, spliced as stored.
 */
export function eventJson(row: TextRow): string {
  return (
    `{"id":"${row['id']!}","type":${jsonString(row['type'])},"ts":${jsonIso(row['ts'])},` +
    `"aidA":${jsonString(row['aid_a'])},"aidB":${jsonString(row['aid_b'])},"sessionId":${jsonString(row['session_id'])},` +
    `"runId":${jsonString(row['run_id'])},"grants":${row['grants'] ?? 'null'},"payload":${row['payload']!},` +
    `"source":${jsonString(row['source'])},"createdAt":${jsonIso(row['created_at'])}}`
  );
}
