import { sql } from 'drizzle-orm';
import { char, check, index, integer, jsonb, pgTable, primaryKey, timestamp, varchar } from 'drizzle-orm/pg-core';

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: varchar('scope', { length: 64 }).notNull(),
    caller: varchar('caller', { length: 600 }).notNull(),
    key: varchar('key', { length: 255 }).notNull(),
    requestHash: char('request_hash', { length: 64 }).notNull(),
    state: varchar('state', { length: 16 }).$type<'in_progress' | 'completed'>().notNull().default('in_progress'),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    responseStatus: integer('response_status'),
    // A webhook `secret` is removed before the response is stored (API.md §0.4).
    responseBody: jsonb('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.scope, t.caller, t.key] }),
    check('idempotency_keys_state_ck', sql`${t.state} IN ('in_progress', 'completed')`),
    index('idempotency_keys_created_at_idx').on(t.createdAt),
  ],
);
