import type { Executor } from '../../db/transaction.js';
import { storeEvents, type NewEvent, type StoredEvent } from '../events/index.js';
import { feedsProjection, projectEvents, type ProjectionDeps } from '../projections/index.js';
import { enqueueDeliveries, isDeliverable } from '../webhooks/index.js';

/**
 * True when storing `events` may write more than the one statement of storeEvents: a projection
 * (EVENTS.md §4) or a webhook outbox row (EVENTS.md §5.2). Only then does the batch need an
 * explicit transaction around persistEvents.
 */
export function needsTransaction(events: readonly NewEvent[]): boolean {
  return events.some((e) => feedsProjection(e.type) || isDeliverable(e));
}

/**
 * The write path every event takes, ingested or CP-emitted (EVENTS.md §4.1, API.md §3.1): one
 * statement inserts (duplicates skipped), touches last_seen_at and queues pg_notify for the new
 * events (repository.ts); then, for new events only, in batch order, projections (each in a
 * savepoint) and webhook outbox rows. `tx` is the caller's transaction; it may be the pool
 * (`onPool`) only when `needsTransaction(events)` is false, since the one statement is atomic on its
 * own and its NOTIFY still goes out at its commit only. `deps` reports projection failures and
 * collects counts to apply after commit; `app.eventPipeline.persist` supplies both.
 */
export async function persistEvents(tx: Executor, events: readonly NewEvent[], deps: ProjectionDeps = {}): Promise<StoredEvent[]> {
  if (!tx.inTransaction && needsTransaction(events)) throw new Error('persistEvents: these events need a transaction');
  const stored = await storeEvents(tx.client, events);
  if (stored.length === 0) return stored;
  await projectEvents(tx.db, stored, deps);
  const enqueued = await enqueueDeliveries(tx.db, stored);
  if (deps.tally) deps.tally.deliveriesEnqueued += enqueued;
  return stored;
}
