import type { HubEvent } from './connection.js';
import type { StreamRow } from './repository.js';

/**
 * The stream record (EVENTS.md §6.1): keys in this order, null/absent ones omitted, `type`
 * verbatim, `ts` ISO. Built once per event and shared by every stream.
 */
export function streamRecordJson(row: StreamRow): string {
  const record: Record<string, unknown> = { id: row.id, type: row.type, ts: row.ts.toISOString() };
  if (row.aidA !== null) record['aidA'] = row.aidA;
  if (row.aidB !== null) record['aidB'] = row.aidB;
  if (row.sessionId !== null) record['sessionId'] = row.sessionId;
  if (row.runId !== null) record['runId'] = row.runId;
  if (row.grants !== null) record['grants'] = row.grants;
  if (row.payload !== null && row.payload !== undefined) record['payload'] = row.payload;
  if (row.source !== null) record['source'] = row.source;
  return JSON.stringify(record);
}

export function toHubEvent(row: StreamRow): HubEvent {
  return {
    seq: row.seq,
    id: row.id,
    type: row.type,
    aidA: row.aidA,
    aidB: row.aidB,
    runId: row.runId,
    sessionId: row.sessionId,
    createdAt: row.createdAt,
    frame: `id: ${row.id}\ndata: ${streamRecordJson(row)}\n\n`,
  };
}
