import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    // The HMAC key, sealed (src/lib/sealing.ts) with the webhook id as associated data; the
    // plain secret is shown once (create, rotate) and never stored, logged or audited.
    sealedSecret: text('sealed_secret').notNull(),
    // The secret a rotation replaced, still signing until previous_secret_expires_at; erased
    // (set to NULL with its expiry) once the overlap ends.
    previousSealedSecret: text('previous_sealed_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, mode: 'date' }),
    secretRotatedAt: timestamp('secret_rotated_at', { withTimezone: true, mode: 'date' }),
    active: boolean('active').notNull().default(true),
    createdBy: varchar('created_by', { length: 600 }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('webhooks_active_idx').on(t.active),
    index('webhooks_created_at_idx').on(t.createdAt, t.id),
  ],
);

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    // Equals `deliveryId` in the signed body, which the app builds before the insert.
    id: uuid('id').primaryKey(),
    webhookId: uuid('webhook_id').notNull(),
    // No FK: audit events are swept by retention while deliveries may outlive them.
    eventId: uuid('event_id'),
    eventType: varchar('event_type', { length: 128 }).notNull(),
    // Exact bytes sent on every attempt, so retries carry the same signature input.
    body: text('body').notNull(),
    status: varchar('status', { length: 32 }).$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    statusCode: integer('status_code'),
    error: text('error'),
    nextRetryAt: timestamp('next_retry_at', { withTimezone: true, mode: 'date' }),
    leaseOwner: varchar('lease_owner', { length: 128 }),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true, mode: 'date' }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    redeliveryOf: uuid('redelivery_of'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ name: 'webhook_deliveries_webhook_id_fk', columns: [t.webhookId], foreignColumns: [webhooks.id] })
      .onDelete('cascade'),
    // A redelivery outlives the original when retention sweeps it first.
    foreignKey({ name: 'webhook_deliveries_redelivery_of_fk', columns: [t.redeliveryOf], foreignColumns: [t.id] })
      .onDelete('set null'),
    check('webhook_deliveries_status_ck', sql`${t.status} IN ('pending', 'delivered', 'failed')`),
    // NULLS FIRST is Postgres' own default for DESC; drizzle's default (NULLS LAST) would stop the index
    // from serving a plain `ORDER BY created_at DESC`.
    index('webhook_deliveries_webhook_created_idx').on(t.webhookId, t.createdAt.desc().nullsFirst(), t.id),
    index('webhook_deliveries_due_idx').on(t.nextRetryAt, t.createdAt).where(sql`${t.status} = 'pending'`),
    // The fair claim takes each webhook's own due rows, oldest first, whatever the others' backlog.
    index('webhook_deliveries_pending_webhook_idx').on(t.webhookId, t.nextRetryAt, t.createdAt).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_status_created_idx').on(t.status, t.createdAt),
    // Lets the SET NULL cascade find referencing rows without a scan; most rows have no original.
    index('webhook_deliveries_redelivery_idx').on(t.redeliveryOf).where(sql`${t.redeliveryOf} IS NOT NULL`),
  ],
);
