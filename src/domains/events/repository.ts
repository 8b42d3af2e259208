import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import type { NewEvent, StoredEvent } from './types.js';

type Executor = Pick<Database, 'execute'>;

/**
 * Inserts a batch in one statement (unnest of column arrays), skipping ids already stored
 * (EVENTS.md §3 step 4). Returns only the rows that were new, in batch order.
 */
export async function insertNewEvents(tx: Executor, events: readonly NewEvent[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const col = <T>(pick: (e: NewEvent) => T): T[] => events.map(pick);
  const result = await tx.execute<{ id: string; seq: string | number; created_at: Date | string }>(sql`
    INSERT INTO audit_events (id, type, ts, aid_a, aid_b, session_id, run_id, grants, payload, source, producer)
    SELECT * FROM unnest(
      ${sql.param(col((e) => e.id))}::uuid[], ${sql.param(col((e) => e.type))}::varchar[], ${sql.param(col((e) => e.ts.toISOString()))}::timestamptz[],
      ${sql.param(col((e) => e.aidA))}::varchar[], ${sql.param(col((e) => e.aidB))}::varchar[], ${sql.param(col((e) => e.sessionId))}::varchar[],
      ${sql.param(col((e) => e.runId))}::varchar[], ${sql.param(col((e) => (e.grants === null ? null : JSON.stringify(e.grants))))}::jsonb[],
      ${sql.param(col((e) => JSON.stringify(e.payload)))}::jsonb[], ${sql.param(col((e) => e.source))}::varchar[], ${sql.param(col((e) => e.producer))}::varchar[]
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING id, seq, created_at`);
  const assigned = new Map(result.rows.map((r) => [r.id, r]));
  const stored: StoredEvent[] = [];
  for (const event of events) {
    const row = assigned.get(event.id);
    if (row) stored.push({ ...event, seq: Number(row.seq), createdAt: new Date(row.created_at) });
  }
  return stored;
}

/**
 * `last_seen_at = now()` for the registered aids among these (EVENTS.md §4.6), one UPDATE.
 * Concurrent batches naming the same agents must neither deadlock (row locks taken in scan
 * order) nor queue behind each other until commit: rows are locked in aid order and a row
 * another in-flight ingest holds is skipped, since that transaction is touching it right now.
 * The value never moves backwards (now() is the transaction start).
 */
export async function touchAgents(tx: Executor, aids: readonly string[]): Promise<void> {
  if (aids.length === 0) return;
  await tx.execute(sql`
    UPDATE agents SET last_seen_at = now()
    WHERE aid IN (
      SELECT aid FROM agents
      WHERE aid = ANY(${sql.param([...aids])}::varchar[]) AND (last_seen_at IS NULL OR last_seen_at < now())
      ORDER BY aid
      FOR UPDATE SKIP LOCKED
    )`);
}
