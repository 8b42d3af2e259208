import { index, pgTable, timestamp, varchar } from 'drizzle-orm/pg-core';

// One row per consumed enrollment token: the PK makes each token single-use.
export const enrollmentJtis = pgTable(
  'enrollment_jtis',
  {
    jti: varchar('jti', { length: 64 }).primaryKey(),
    aid: varchar('aid', { length: 512 }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('enrollment_jtis_expires_at_idx').on(t.expiresAt)],
);
