import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { normalizedType, toStreamRecord, type StoredEvent } from '../events/index.js';

type Executor = Pick<Database, 'execute'>;

/** Delivered from any producer (EVENTS.md §5.2), keyed by the alias-normalized type. */
const DELIVERABLE = new Set(['handshake.complete', 'handshake.failed', 'tct.revoked']);
/** Reserved types: only CP-emitted ones reach webhooks (EVENTS.md §1.4). */
const CP_ONLY = new Set(['agent.registered', 'agent.expired', 'agent.deregistered']);

export function isDeliverable(event: Pick<StoredEvent, 'type' | 'producer'>): boolean {
  const type = normalizedType(event.type);
  return DELIVERABLE.has(type) || (CP_ONLY.has(type) && event.producer === 'cp');
}

/** A webhook gets the event when its `events` is empty or names the type (alias-aware, §1.3). */
export function subscribes(events: readonly string[], eventType: string): boolean {
  return events.length === 0 || events.some((entry) => normalizedType(entry) === eventType);
}

/**
 * The delivery body (EVENTS.md §5.3): `JSON.stringify` with exactly this key order and no
 * whitespace, built once at enqueue and sent byte-identical on every attempt of the row.
 */
export function deliveryBody(deliveryId: string, eventType: string, payload: unknown, enqueuedAt: string): string {
  return JSON.stringify({ deliveryId, eventType, payload, enqueuedAt });
}

/**
 * A redelivery's body: the original stream record under a new `deliveryId` and `enqueuedAt`. The
 * stored body is `JSON.stringify` output, so parsing and re-serializing its payload is exact.
 */
export function redeliveryBody(originalBody: string, deliveryId: string, eventType: string, enqueuedAt: string): string {
  const { payload } = JSON.parse(originalBody) as { payload: unknown };
  return deliveryBody(deliveryId, eventType, payload, enqueuedAt);
}

interface OutboxRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  body: string;
}

/**
 * The transactional outbox (EVENTS.md §5.2, OPERATIONS.md §12.3): inside the transaction that
 * stored `stored`, one pending row per (deliverable event, matching active webhook), due at
 * once. `enqueuedAt` is the transaction's `now()`, which is also the rows' `created_at`, so the
 * body and the Delivery view agree. Returns how many rows were written.
 */
export async function enqueueDeliveries(tx: Executor, stored: readonly StoredEvent[]): Promise<number> {
  const deliverable = stored.filter(isDeliverable);
  if (deliverable.length === 0) return 0;
  const hooks = await tx.execute<{ id: string; events: string[]; now: Date }>(
    sql`SELECT id, events, now() AS now FROM webhooks WHERE active ORDER BY created_at, id`,
  );
  if (hooks.rows.length === 0) return 0;
  const enqueuedAt = new Date(hooks.rows[0]!.now).toISOString();
  const rows: OutboxRow[] = [];
  for (const event of deliverable) {
    const eventType = normalizedType(event.type);
    const record = toStreamRecord(event);
    for (const hook of hooks.rows) {
      if (!subscribes(hook.events, eventType)) continue;
      const id = randomUUID();
      rows.push({ id, webhook_id: hook.id, event_id: event.id, event_type: eventType, body: deliveryBody(id, eventType, record, enqueuedAt) });
    }
  }
  if (rows.length === 0) return 0;
  // One parameter whatever the batch size (an ingest batch may fan out to thousands of rows).
  await tx.execute(sql`
    INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, next_retry_at)
    SELECT id, webhook_id, event_id, event_type, body, now()
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(id uuid, webhook_id uuid, event_id uuid, event_type text, body text)`);
  return rows.length;
}
