import type { EventRecord } from './views.js';

/** An event ready to store (EVENTS.md §1.1), after ingest normalization or CP emission. */
export interface NewEvent extends EventRecord {
  /** Always set by the app (DATA-MODEL.md audit_events.source). */
  source: string;
  /** `apikey:<16 hex>`, `anonymous` or `cp`; never in API JSON. */
  producer: string;
  /** JSON.stringify(payload) when the producer already computed it (ingest's size check), reused for the insert. */
  payloadJson?: string;
}

/** A newly inserted event, with what the database assigned. */
export interface StoredEvent extends NewEvent {
  seq: number;
  createdAt: Date;
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
