import { toStreamRecord } from '../events/index.js';
import type { HubEvent } from './connection.js';
import type { StreamRow } from './repository.js';

/** A stored row as the hub fans it out: the frame (EVENTS.md §6.1) is built once for every stream. */
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
    frame: `id: ${row.id}\ndata: ${JSON.stringify(toStreamRecord(row))}\n\n`,
  };
}
