import { and, asc, desc, eq, gt, isNotNull, lte, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { webhookDeliveries, webhooks } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';

type Db = Pick<Database, 'select' | 'insert' | 'update' | 'delete'>;

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type DeliverySummaryRow = Omit<DeliveryRow, 'body' | 'leaseOwner' | 'leaseUntil'>;

export interface NewWebhook {
  /** Chosen by the app: the sealed secret names it as associated data. */
  id: string;
  url: string;
  events: string[];
  sealedSecret: string;
  active: boolean;
  createdBy: string;
}

export interface WebhookChanges {
  url?: string;
  events?: string[];
  active?: boolean;
  sealedSecret?: string;
  previousSealedSecret?: string | null;
  previousSecretExpiresAt?: Date | null;
  secretRotatedAt?: Date;
}

export async function insertWebhook(tx: Db, values: NewWebhook): Promise<WebhookRow> {
  const [row] = await tx.insert(webhooks).values(values).returning();
  return row!;
}

export async function findWebhook(db: Db, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
  return row;
}

/** Locks the row so concurrent patches compute their "changed keys" one after the other. */
export async function lockWebhook(tx: Db, id: string): Promise<WebhookRow | undefined> {
  const [row] = await tx.select().from(webhooks).where(eq(webhooks.id, id)).for('update');
  return row;
}

export async function updateWebhook(tx: Db, id: string, changes: WebhookChanges): Promise<WebhookRow> {
  const [row] = await tx
    .update(webhooks)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(webhooks.id, id))
    .returning();
  return row!;
}

/**
 * Erases previous secrets whose overlap has ended at `now` (the app clock, which also decides
 * which secrets sign), so an expired secret is gone from the table, not just unused.
 */
export async function erasePreviousSecrets(db: Db, now: Date): Promise<number> {
  const rows = await db
    .update(webhooks)
    .set({ previousSealedSecret: null, previousSecretExpiresAt: null })
    .where(and(isNotNull(webhooks.previousSealedSecret), lte(webhooks.previousSecretExpiresAt, now)))
    .returning({ id: webhooks.id });
  return rows.length;
}

export type SealedRow = Pick<WebhookRow, 'id' | 'sealedSecret' | 'previousSealedSecret'>;

/** The next rows by id after `afterId`, locked until the transaction ends (re-seal batches). */
export async function lockSealedBatch(tx: Db, afterId: string | null, limit: number): Promise<SealedRow[]> {
  return tx
    .select({ id: webhooks.id, sealedSecret: webhooks.sealedSecret, previousSealedSecret: webhooks.previousSealedSecret })
    .from(webhooks)
    .where(afterId === null ? undefined : gt(webhooks.id, afterId))
    .orderBy(asc(webhooks.id))
    .limit(limit)
    .for('update');
}

/** Replaces the sealed values of a locked row; updated_at stays, nothing a caller sees changed. */
export async function replaceSealed(tx: Db, row: SealedRow): Promise<void> {
  await tx
    .update(webhooks)
    .set({ sealedSecret: row.sealedSecret, previousSealedSecret: row.previousSealedSecret })
    .where(eq(webhooks.id, row.id));
}

/** Sealed values per key id named in them (current and previous secrets). */
export async function countSealedByKey(db: Pick<Database, 'execute'>): Promise<Map<string, number>> {
  const result = await db.execute<{ key_id: string; n: string }>(sql`
    SELECT split_part(v, '.', 2) AS key_id, count(*) AS n
    FROM (SELECT sealed_secret AS v FROM webhooks
          UNION ALL SELECT previous_sealed_secret FROM webhooks WHERE previous_sealed_secret IS NOT NULL) s
    GROUP BY 1`);
  return new Map(result.rows.map((row) => [row.key_id, Number(row.n)]));
}

/** Deliveries go with it (ON DELETE CASCADE). */
export async function deleteWebhook(tx: Db, id: string): Promise<{ url: string } | undefined> {
  const [row] = await tx.delete(webhooks).where(eq(webhooks.id, id)).returning({ url: webhooks.url });
  return row;
}

/** Order `created_at` desc, `id` asc (API.md §7.1); `limit + 1` rows for `hasMore`. */
export async function listWebhooks(db: Db, filter: { active?: boolean }, page: Page): Promise<WebhookRow[]> {
  return db
    .select()
    .from(webhooks)
    .where(filter.active === undefined ? undefined : eq(webhooks.active, filter.active))
    .orderBy(desc(webhooks.createdAt), asc(webhooks.id))
    .limit(page.limit + 1)
    .offset(page.offset);
}

const summaryColumns = {
  id: webhookDeliveries.id,
  webhookId: webhookDeliveries.webhookId,
  eventId: webhookDeliveries.eventId,
  eventType: webhookDeliveries.eventType,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  statusCode: webhookDeliveries.statusCode,
  error: webhookDeliveries.error,
  nextRetryAt: webhookDeliveries.nextRetryAt,
  lastAttemptAt: webhookDeliveries.lastAttemptAt,
  deliveredAt: webhookDeliveries.deliveredAt,
  redeliveryOf: webhookDeliveries.redeliveryOf,
  createdAt: webhookDeliveries.createdAt,
};

export interface DeliveryFilter {
  status?: 'pending' | 'delivered' | 'failed';
  eventType?: string;
}

/** Order `created_at` desc, `id` asc (API.md §7.8), without bodies; `limit + 1` rows. */
export async function listDeliveries(db: Db, webhookId: string, filter: DeliveryFilter, page: Page): Promise<DeliverySummaryRow[]> {
  return db
    .select(summaryColumns)
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        filter.status === undefined ? undefined : eq(webhookDeliveries.status, filter.status),
        filter.eventType === undefined ? undefined : eq(webhookDeliveries.eventType, filter.eventType),
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
    .limit(page.limit + 1)
    .offset(page.offset);
}

/** A delivery only through the webhook it belongs to (API.md §7.9). */
export async function findDelivery(db: Db, webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId)));
  return row;
}

export interface NewRedelivery {
  id: string;
  webhookId: string;
  eventId: string | null;
  eventType: string;
  body: string;
  redeliveryOf: string;
  nextRetryAt: Date;
}

/** A fresh row for the same event: attempts 0, pending, created (= enqueuedAt) at the tx's now(). */
export async function insertRedelivery(tx: Db, values: NewRedelivery): Promise<DeliveryRow> {
  const [row] = await tx.insert(webhookDeliveries).values(values).returning();
  return row!;
}

/** A pending delivery due again now; its attempt budget is unchanged (API.md §7.10). */
export async function reschedulePending(tx: Db, deliveryId: string, at: Date): Promise<DeliveryRow | undefined> {
  const [row] = await tx
    .update(webhookDeliveries)
    .set({ nextRetryAt: at })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending')))
    .returning();
  return row;
}

/** The transaction's now(): the created_at a row inserted in it gets. */
export async function transactionNow(tx: Pick<Database, 'execute'>): Promise<Date> {
  const result = await tx.execute<{ now: Date }>(sql`SELECT now() AS now`);
  return new Date(result.rows[0]!.now);
}
