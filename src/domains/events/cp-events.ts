import { randomUUID } from 'node:crypto';
import type { NewEvent } from './types.js';

/**
 * A CP-emitted event (EVENTS.md §5.1): source and producer `cp`, a random UUIDv4, no session,
 * run or grants. Persist it with app.eventPipeline.persist() in the transaction of the change it
 * reports, and call committed() after commit.
 */
export function cpEvent(input: { type: string; ts: Date; aidA: string | null; payload: Record<string, unknown> }): NewEvent {
  return {
    id: randomUUID(),
    type: input.type,
    ts: input.ts,
    aidA: input.aidA,
    aidB: null,
    sessionId: null,
    runId: null,
    grants: null,
    payload: input.payload,
    source: 'cp',
    producer: 'cp',
  };
}
