import type { Database } from '../../db/client.js';
import { notifyInTx } from '../../db/notify.js';
import { projectEvents, type ProjectionDeps } from '../projections/index.js';
import { enqueueDeliveries } from '../webhooks/outbox.js';
import { insertNewEvents, touchAgents } from './repository.js';
import type { NewEvent, StoredEvent } from './types.js';

type Tx = Pick<Database, 'execute'>;

/** NOTIFY payloads stay under Postgres' 8000-byte limit (DATA-MODEL.md §NOTIFY). */
const MAX_NOTIFY_BYTES = 7_900;

const EMPTY_PAYLOAD_BYTES = '{"v":1,"seq":[]}'.length;

/** Splits seq numbers into `{"v":1,"seq":[…]}` payloads of at most MAX_NOTIFY_BYTES. */
export function seqChunks(seqs: readonly number[]): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let size = EMPTY_PAYLOAD_BYTES;
  for (const seq of seqs) {
    const cost = String(seq).length + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && size + cost > MAX_NOTIFY_BYTES) {
      chunks.push(current);
      current = [];
      size = EMPTY_PAYLOAD_BYTES;
    }
    size += String(seq).length + (current.length > 0 ? 1 : 0);
    current.push(seq);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The write path every event takes, ingested or CP-emitted, inside the caller's transaction
 * (EVENTS.md §4.1, API.md §3.1): insert (duplicates skipped), then for new events only, in
 * batch order: last_seen_at for known aids, projections (each in a savepoint), webhook outbox
 * rows (EVENTS.md §5.2) and pg_notify for the SSE hubs and dispatchers, delivered at commit.
 * `deps` reports projection failures and collects counts to apply after commit;
 * `app.eventPipeline.persist` supplies both.
 */
export async function persistEvents(tx: Tx, events: readonly NewEvent[], deps: ProjectionDeps = {}): Promise<StoredEvent[]> {
  const stored = await insertNewEvents(tx, events);
  if (stored.length === 0) return stored;
  const aids = new Set<string>();
  for (const e of stored) {
    // Liveness is what agents report; the CP's own agent.* events say nothing about it.
    if (e.producer === 'cp') continue;
    if (e.aidA !== null) aids.add(e.aidA);
    if (e.aidB !== null) aids.add(e.aidB);
  }
  await touchAgents(tx, [...aids]);
  await projectEvents(tx, stored, deps);
  const enqueued = await enqueueDeliveries(tx, stored);
  if (deps.tally) deps.tally.deliveriesEnqueued += enqueued;
  for (const seq of seqChunks(stored.map((e) => e.seq))) await notifyInTx(tx, 'aitp_events', { seq });
  return stored;
}
