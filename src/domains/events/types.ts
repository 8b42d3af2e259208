import type { Executor } from '../../db/transaction.js';
import type { EventRecord } from './views.js';

// One event, in the shapes that earn their place:
// - NewEvent: what ingest normalization or a CP emitter hands the pipeline (with the producer);
// - StoredEvent: a NewEvent the insert returned as new, with seq and created_at (projections, outbox, metrics);
// - EventView (views.ts): the API.md §0.5 JSON object (session detail, replay, exports);
// - StreamRecord (views.ts): the EVENTS.md §6.1 record, byte order load-bearing (SSE data, webhook payload);
// - TextRow (src/db/raw-query.ts): a history row read as text and rendered straight to JSON.
// The stream domain keeps its own row and frame shapes (src/domains/stream/).

/** An event ready to store (EVENTS.md §1.1), after ingest normalization or CP emission. */
export interface NewEvent extends EventRecord {
  /** Always set by the app (DATA-MODEL.md audit_events.source). */
  source: string;
  /** `apikey:<16 hex>`, `anonymous` or `cp`; never in API JSON. */
  producer: string;
  /** JSON.stringify(payload) when the producer already computed it (ingest's size check), reused for the insert. */
  payloadJson?: string;
  /** jcs(payload) when the producer already computed it (deriving the event id), reused for the audit log's leaf. */
  payloadJcs?: string;
}

/** A newly inserted event, with what the database assigned. */
export interface StoredEvent extends NewEvent {
  seq: number;
  createdAt: Date;
  /** The writing transaction's id (audit_events.txid): the audit log remembers leaves by it. */
  txid: number;
}

/** `handshake.completed` ≡ `handshake.complete` (EVENTS.md §1.3). */
export function normalizedType(type: string): string {
  return type === 'handshake.completed' ? 'handshake.complete' : type;
}

/** The stored type names a type filter matches: either spelling of `handshake.complete(d)` matches both. */
export function withAliases(types: Iterable<string>): string[] {
  const all = new Set<string>();
  for (const type of types) {
    all.add(type);
    if (normalizedType(type) === 'handshake.complete') {
      all.add('handshake.complete');
      all.add('handshake.completed');
    }
  }
  return [...all];
}

/**
 * The write pipeline (src/domains/event-pipeline) as `app.eventPipeline`: the events domain and
 * every CP emitter persist through it without importing it.
 */
export interface EventPipeline {
  /** True when persisting `events` may write more than one statement, so they need a transaction. */
  needsTransaction(events: readonly NewEvent[]): boolean;
  /**
   * Stores, projects and enqueues inside `tx`; `committed()` applies metrics and pokes the
   * dispatcher after commit. `tx` is a transaction (src/db/transaction.ts), or the pool (`onPool`)
   * when `needsTransaction` is false. CP emitters: `const r = await app.eventPipeline.persist(tx,
   * [...])` inside their `inTransaction`, `r.committed()` after it.
   */
  persist(tx: Executor, events: readonly NewEvent[]): Promise<{ stored: StoredEvent[]; committed(): void }>;
}
