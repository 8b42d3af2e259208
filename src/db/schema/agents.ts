import { sql } from 'drizzle-orm';
import { char, check, index, jsonb, pgTable, text, timestamp, varchar } from 'drizzle-orm/pg-core';

export const agents = pgTable(
  'agents',
  {
    aid: varchar('aid', { length: 512 }).primaryKey(),
    displayName: varchar('display_name', { length: 512 }).notNull(),
    handshakeEndpoint: text('handshake_endpoint').notNull(),
    offeredCaps: jsonb('offered_caps').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    // Raw register body: signed material is stored as received (STYLE.md, "Durable before visible").
    manifestJson: text('manifest_json').notNull(),
    manifestSha256: char('manifest_sha256', { length: 64 }).notNull(),
    manifestExpiresAt: timestamp('manifest_expires_at', { withTimezone: true, mode: 'date' }),
    status: varchar('status', { length: 32 }).$type<'active' | 'expired' | 'deregistered'>().notNull().default('active'),
    namespace: varchar('namespace', { length: 128 }).notNull().default('default'),
    registeredAt: timestamp('registered_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastEnrolledAt: timestamp('last_enrolled_at', { withTimezone: true, mode: 'date' }),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }),
    deregisteredAt: timestamp('deregistered_at', { withTimezone: true, mode: 'date' }),
    org: varchar('org', { length: 128 }),
    cloud: varchar('cloud', { length: 128 }),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check('agents_status_ck', sql`${t.status} IN ('active', 'expired', 'deregistered')`),
    // Retention keys on deregistered_at, so it must be set exactly when the agent is deregistered.
    check('agents_deregistered_ck', sql`(${t.status} = 'deregistered') = (${t.deregisteredAt} IS NOT NULL)`),
    index('agents_status_idx').on(t.status),
    index('agents_registered_at_idx').on(t.registeredAt, t.aid),
    index('agents_namespace_idx').on(t.namespace),
    index('agents_display_name_idx').on(t.displayName),
    // jsonb_path_ops serves only containment (`offered_caps @> '["cap"]'`), which is all the capability filter uses.
    // fastupdate off: with the default pending list every discovery search also scanned each
    // entry enrolled since the last vacuum (3x the index time with 1,000 fresh agents); agents
    // are enrolled far less often than discovered.
    index('agents_offered_caps_gin').using('gin', t.offeredCaps.op('jsonb_path_ops')).with({ fastupdate: false }),
    index('agents_expiry_idx')
      .on(t.manifestExpiresAt)
      .where(sql`${t.status} = 'active' AND ${t.manifestExpiresAt} IS NOT NULL`),
    index('agents_deregistered_at_idx').on(t.deregisteredAt).where(sql`${t.status} = 'deregistered'`),
  ],
);
