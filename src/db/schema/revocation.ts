import { index, pgTable, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

export const revocationEntries = pgTable(
  'revocation_entries',
  {
    jti: uuid('jti').primaryKey(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    reason: text('reason'),
    revokedBy: varchar('revoked_by', { length: 600 }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('revocation_entries_revoked_at_idx').on(t.revokedAt, t.jti)],
);
