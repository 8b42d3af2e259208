import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { webhookDeliveries } from '../../db/schema/index.js';

type Db = Pick<Database, 'execute' | 'select' | 'update'>;

/** A claimed row with its webhook as it is now (a rotated secret signs every later attempt). */
export interface ClaimedDelivery {
  id: string;
  eventType: string;
  body: string;
  attempts: number;
  webhook: DispatchWebhook;
}

export interface DispatchWebhook {
  id: string;
  url: string;
  sealedSecret: string;
  previousSealedSecret: string | null;
  previousSecretExpiresAt: Date | null;
  active: boolean;
}

export interface ClaimRequest {
  owner: string;
  leaseMs: number;
  /**
   * The dispatcher's clock, which schedules retries. A row is due by it or by database time
   * (enqueue stamps rows with the transaction's now()), so a clock skew between the app and the
   * database never holds back a fresh row until the next poll.
   */
  now: Date;
  limit: number;
  /** WEBHOOK_CONCURRENCY_PER_TARGET: attempts one webhook may have in flight on this replica. */
  perTarget: number;
  /** Attempts in flight on this replica, by webhook id. */
  busy: ReadonlyMap<string, number>;
}

type ClaimedRow = {
  id: string;
  webhook_id: string;
  event_type: string;
  body: string;
  attempts: number;
  url: string;
  sealed_secret: string;
  previous_sealed_secret: string | null;
  previous_secret_expires_at: Date | string | null;
  active: boolean;
};

/**
 * The claim of OPERATIONS.md §12.3, fair across webhooks: each webhook offers its own due
 * pending rows without a live lease, oldest due first, up to its free share (perTarget minus
 * what it has in flight here), locked with SKIP LOCKED so replicas never claim the same row.
 * Of those, rows are taken by turn (in-flight count + rank within the webhook), so a webhook with
 * nothing in flight goes before the second attempt of any other, and a backlog of one slow
 * receiver never queues ahead of another webhook's fresh row. Claimed rows are leased to this
 * replica (database time, shared by every replica); the webhook comes back with the row.
 */
export async function claimDue(db: Db, request: ClaimRequest): Promise<ClaimedDelivery[]> {
  const busyIds = sql.param([...request.busy.keys()]);
  const busyCounts = sql.param([...request.busy.values()]);
  const result = await db.execute<ClaimedRow>(sql`
    UPDATE webhook_deliveries d
    SET lease_owner = ${request.owner}, lease_until = now() + make_interval(secs => ${request.leaseMs / 1000})
    FROM webhooks w
    WHERE w.id = d.webhook_id AND d.id IN (
      SELECT offered.id FROM (
        SELECT due.id, due.next_retry_at, due.created_at,
               coalesce(b.busy, 0) + row_number() OVER (PARTITION BY t.id ORDER BY due.next_retry_at, due.created_at) AS turn
        FROM webhooks t
        LEFT JOIN unnest(${busyIds}::uuid[], ${busyCounts}::int[]) AS b(webhook_id, busy) ON b.webhook_id = t.id
        CROSS JOIN LATERAL (
          SELECT id, next_retry_at, created_at FROM webhook_deliveries
          WHERE webhook_id = t.id AND status = 'pending'
            AND next_retry_at <= GREATEST(now(), ${request.now.toISOString()}::timestamptz)
            AND (lease_until IS NULL OR lease_until < now())
          ORDER BY next_retry_at, created_at
          LIMIT GREATEST(${request.perTarget}::int - coalesce(b.busy, 0), 0)
          FOR UPDATE SKIP LOCKED) due
      ) offered
      ORDER BY offered.turn, offered.next_retry_at, offered.created_at
      LIMIT ${request.limit})
    RETURNING d.id, d.webhook_id, d.event_type, d.body, d.attempts, w.url, w.sealed_secret, w.previous_sealed_secret, w.previous_secret_expires_at, w.active`);
  return result.rows.map((row) => ({
    id: row.id,
    eventType: row.event_type,
    body: row.body,
    attempts: row.attempts,
    webhook: {
      id: row.webhook_id,
      url: row.url,
      sealedSecret: row.sealed_secret,
      previousSealedSecret: row.previous_sealed_secret,
      previousSecretExpiresAt: row.previous_secret_expires_at === null ? null : new Date(row.previous_secret_expires_at),
      active: row.active,
    },
  }));
}

type DeliveryChanges = Partial<typeof webhookDeliveries.$inferInsert>;

/**
 * Every write after the claim is guarded by the lease (§12.3): false means another replica
 * took the row over after our lease expired, and our result must be discarded.
 */
export async function updateLeased(db: Db, id: string, owner: string, changes: DeliveryChanges): Promise<boolean> {
  const rows = await db
    .update(webhookDeliveries)
    .set(changes)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.leaseOwner, owner)))
    .returning({ id: webhookDeliveries.id });
  return rows.length === 1;
}

/** Step 4: the attempt is counted before the request leaves, so a crash mid-POST still counts it. */
export async function recordAttemptStart(db: Db, id: string, owner: string, attempts: number, at: Date): Promise<boolean> {
  return updateLeased(db, id, owner, { attempts, lastAttemptAt: at });
}

/** Lease cleared with the outcome (step 7). */
export async function settleLeased(db: Db, id: string, owner: string, changes: DeliveryChanges): Promise<boolean> {
  return updateLeased(db, id, owner, { ...changes, leaseOwner: null, leaseUntil: null });
}
