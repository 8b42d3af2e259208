import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { RETENTION_LOCK_KEY } from '../../db/locks.js';

type Executor = Pick<Database, 'execute'>;

/** The swept tables in the order of DATA-MODEL.md §Retention (the round-robin order, §11 step 3). */
export const RETENTION_TABLES = [
  'enrollment_jtis',
  'idempotency_keys',
  'webhook_deliveries',
  'admin_audit_log',
  'audit_events',
  'handshake_sessions',
  'agents',
] as const;

export type RetentionTable = (typeof RETENTION_TABLES)[number];

/**
 * Rows of the verifiable audit log: the chunk also records, in the same statement, the newest
 * created_at it deleted (audit_log_sweeps), so a record missing at or below that mark reads as
 * swept and one missing above it as deleted some other way (src/domains/audit-log).
 */
const markedSweep = (kind: 'admin' | 'event', deletion: SQL): SQL => sql`
  WITH deleted AS (${deletion}), marked AS (
    INSERT INTO audit_log_sweeps (kind, swept_through)
    SELECT ${kind}, max(created_at) FROM deleted HAVING count(*) > 0
    ON CONFLICT (kind) DO UPDATE SET swept_through = greatest(audit_log_sweeps.swept_through, excluded.swept_through))
  SELECT count(*)::int AS deleted FROM deleted`;

const cutoff = (days: number): SQL => sql`now() - make_interval(days => ${days}::int)`;

// One `DELETE … WHERE <pk> IN (SELECT <pk> … LIMIT n)` per table (OPERATIONS.md §11 step 3).
// The inner SELECT locks with SKIP LOCKED: a row some request holds (a delivery the dispatcher is
// claiming, an agent re-registering) is left for the next sweep instead of being waited on, and
// under READ COMMITTED the row's predicate is re-checked on its latest version before deletion.
const CHUNKS: Record<RetentionTable, (ttlDays: number, limit: number) => SQL> = {
  enrollment_jtis: (_ttl, n) => sql`
    DELETE FROM enrollment_jtis WHERE jti IN (
      SELECT jti FROM enrollment_jtis WHERE expires_at < now() LIMIT ${n} FOR UPDATE SKIP LOCKED)`,
  idempotency_keys: (ttl, n) => sql`
    DELETE FROM idempotency_keys WHERE (scope, caller, key) IN (
      SELECT scope, caller, key FROM idempotency_keys WHERE created_at < ${cutoff(ttl)} LIMIT ${n} FOR UPDATE SKIP LOCKED)`,
  // A pending delivery under a live lease is being attempted right now (§12.3): never pulled away.
  webhook_deliveries: (ttl, n) => sql`
    DELETE FROM webhook_deliveries WHERE id IN (
      SELECT id FROM webhook_deliveries
      WHERE created_at < ${cutoff(ttl)}
        AND (status IN ('delivered', 'failed') OR (status = 'pending' AND (lease_until IS NULL OR lease_until < now())))
      LIMIT ${n} FOR UPDATE SKIP LOCKED)`,
  admin_audit_log: (ttl, n) => markedSweep('admin', sql`
    DELETE FROM admin_audit_log WHERE id IN (
      SELECT id FROM admin_audit_log WHERE created_at < ${cutoff(ttl)} LIMIT ${n} FOR UPDATE SKIP LOCKED)
    RETURNING created_at`),
  audit_events: (ttl, n) => markedSweep('event', sql`
    DELETE FROM audit_events WHERE id IN (
      SELECT id FROM audit_events WHERE created_at < ${cutoff(ttl)} LIMIT ${n} FOR UPDATE SKIP LOCKED)
    RETURNING created_at`),
  handshake_sessions: (ttl, n) => sql`
    DELETE FROM handshake_sessions WHERE session_id IN (
      SELECT session_id FROM handshake_sessions WHERE updated_at < ${cutoff(ttl)} LIMIT ${n} FOR UPDATE SKIP LOCKED)`,
  // Only deregistered agents, by deregistered_at; `expired` agents stay (they can re-register).
  agents: (ttl, n) => sql`
    DELETE FROM agents WHERE aid IN (
      SELECT aid FROM agents WHERE status = 'deregistered' AND deregistered_at < ${cutoff(ttl)}
      LIMIT ${n} FOR UPDATE SKIP LOCKED)`,
};

/**
 * Deletes at most `limit` expired rows of `table` in one statement. Run outside any explicit
 * transaction, the statement is its own short transaction: its row locks end with it.
 */
export async function deleteChunk(db: Executor, table: RetentionTable, ttlDays: number, limit: number): Promise<number> {
  const result = await db.execute<{ deleted?: number }>(CHUNKS[table](ttlDays, limit));
  // Marked sweeps answer with a count row; plain DELETEs with the affected row count.
  return result.rows[0]?.deleted ?? result.rowCount ?? 0;
}

/** Session-level `pg_try_advisory_lock` on this connection (DATA-MODEL.md §Migrations and locks). */
export async function tryRetentionLock(db: Executor): Promise<boolean> {
  const result = await db.execute<{ locked: boolean }>(sql`SELECT pg_try_advisory_lock(${RETENTION_LOCK_KEY}::bigint) AS locked`);
  return result.rows[0]?.locked === true;
}

export async function releaseRetentionLock(db: Executor): Promise<void> {
  await db.execute(sql`SELECT pg_advisory_unlock(${RETENTION_LOCK_KEY}::bigint)`);
}
