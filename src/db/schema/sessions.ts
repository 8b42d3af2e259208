import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp, varchar } from 'drizzle-orm/pg-core';

export const handshakeSessions = pgTable(
  'handshake_sessions',
  {
    sessionId: varchar('session_id', { length: 255 }).primaryKey(),
    aidA: varchar('aid_a', { length: 512 }),
    aidB: varchar('aid_b', { length: 512 }),
    status: varchar('status', { length: 32 }).$type<'started' | 'complete' | 'failed'>().notNull().default('started'),
    grants: jsonb('grants').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    runId: varchar('run_id', { length: 255 }),
    boundary: varchar('boundary', { length: 32 }),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check('handshake_sessions_status_ck', sql`${t.status} IN ('started', 'complete', 'failed')`),
    index('handshake_sessions_status_idx').on(t.status),
    index('handshake_sessions_aid_a_idx').on(t.aidA),
    index('handshake_sessions_aid_b_idx').on(t.aidB),
    index('handshake_sessions_run_id_idx').on(t.runId),
    index('handshake_sessions_created_at_idx').on(t.createdAt, t.sessionId),
    // The dashboard's event time (Ruling 26); the expression must stay identical to its queries'.
    index('handshake_sessions_event_time_idx').on(sql`coalesce(${t.startedAt}, ${t.completedAt}, ${t.createdAt})`),
    index('handshake_sessions_updated_at_idx').on(t.updatedAt),
  ],
);
