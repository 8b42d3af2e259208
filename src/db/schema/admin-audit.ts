import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { writerTxid } from './audit-log.js';

export const adminAuditLog = pgTable(
  'admin_audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    action: varchar('action', { length: 128 }).notNull(),
    actorId: varchar('actor_id', { length: 600 }),
    targetId: varchar('target_id', { length: 600 }),
    // Readable by every API-key holder through GET /api/audit, so it never holds a secret.
    details: jsonb('details').$type<Record<string, unknown>>().default(sql`'{}'::jsonb`),
    requestId: varchar('request_id', { length: 128 }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    // The verifiable audit log's commit-safe order (src/db/schema/audit-log.ts).
    txid: writerTxid(),
  },
  (t) => [
    index('admin_audit_created_at_idx').on(t.createdAt, t.id),
    index('admin_audit_actor_idx').on(t.actorId),
    index('admin_audit_action_idx').on(t.action),
    index('admin_audit_target_idx').on(t.targetId),
    index('admin_audit_txid_idx').on(t.txid),
  ],
);
