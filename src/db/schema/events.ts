import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, timestamp, unique, uuid, varchar } from 'drizzle-orm/pg-core';
import { writerTxid } from './audit-log.js';

export const auditEvents = pgTable(
  'audit_events',
  {
    // Client-supplied or minted by the app (EVENTS.md §3), so no database default.
    id: uuid('id').primaryKey(),
    // Server-assigned insert order: the SSE cursor and tiebreak, never in API JSON (EVENTS.md §1).
    // `number` mode is exact up to 2^53, far beyond any retained row count.
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    type: varchar('type', { length: 128 }).notNull(),
    ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
    aidA: varchar('aid_a', { length: 512 }),
    aidB: varchar('aid_b', { length: 512 }),
    sessionId: varchar('session_id', { length: 255 }),
    runId: varchar('run_id', { length: 255 }),
    grants: jsonb('grants').$type<string[]>(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    source: varchar('source', { length: 128 }),
    producer: varchar('producer', { length: 64 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    // The verifiable audit log's commit-safe order (src/db/schema/audit-log.ts).
    txid: writerTxid(),
  },
  (t) => [
    unique('audit_events_seq_key').on(t.seq),
    index('audit_events_ts_idx').on(t.ts, t.seq),
    index('audit_events_type_ts_idx').on(t.type, t.ts),
    index('audit_events_session_ts_idx').on(t.sessionId, t.ts, t.seq),
    index('audit_events_run_id_idx').on(t.runId),
    index('audit_events_aid_a_idx').on(t.aidA, t.ts),
    index('audit_events_aid_b_idx').on(t.aidB, t.ts),
    index('audit_events_created_at_idx').on(t.createdAt),
    index('audit_events_txid_seq_idx').on(t.txid, t.seq),
  ],
);
