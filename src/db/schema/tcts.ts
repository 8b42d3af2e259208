import { sql } from 'drizzle-orm';
import { boolean, check, index, jsonb, pgTable, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

export const issuedTcts = pgTable(
  'issued_tcts',
  {
    // The token's own jti, taken from its claims, so no database default.
    jti: uuid('jti').primaryKey(),
    issuerAid: varchar('issuer_aid', { length: 512 }).notNull(),
    subjectAid: varchar('subject_aid', { length: 512 }).notNull(),
    audienceAid: varchar('audience_aid', { length: 512 }).notNull(),
    grants: jsonb('grants').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    bindingCnf: varchar('binding_cnf', { length: 128 }),
    issuedAt: timestamp('issued_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    sessionId: varchar('session_id', { length: 255 }),
    revoked: boolean('revoked').notNull().default(false),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('issued_tcts_issuer_idx').on(t.issuerAid),
    index('issued_tcts_subject_idx').on(t.subjectAid),
    index('issued_tcts_audience_idx').on(t.audienceAid),
    index('issued_tcts_session_idx').on(t.sessionId),
    index('issued_tcts_grants_gin').using('gin', t.grants.op('jsonb_path_ops')),
    index('issued_tcts_issued_at_idx').on(t.issuedAt, t.jti),
  ],
);

export const delegations = pgTable(
  'delegations',
  {
    jti: uuid('jti').primaryKey(),
    // No FK: the parent may be a TCT or another delegation.
    parentJti: uuid('parent_jti').notNull(),
    delegatorAid: varchar('delegator_aid', { length: 512 }).notNull(),
    delegateeAid: varchar('delegatee_aid', { length: 512 }).notNull(),
    scope: jsonb('scope').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    issuedAt: timestamp('issued_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    sessionId: varchar('session_id', { length: 255 }),
    revoked: boolean('revoked').notNull().default(false),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    revokedReason: varchar('revoked_reason', { length: 64 }).$type<'explicit' | 'parent_revoked'>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'delegations_revoked_reason_ck',
      sql`${t.revokedReason} IS NULL OR ${t.revokedReason} IN ('explicit', 'parent_revoked')`,
    ),
    index('delegations_parent_idx').on(t.parentJti),
    index('delegations_delegator_idx').on(t.delegatorAid),
    index('delegations_delegatee_idx').on(t.delegateeAid),
    index('delegations_issued_at_idx').on(t.issuedAt, t.jti),
  ],
);
