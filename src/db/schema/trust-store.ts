import { index, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid, varchar } from 'drizzle-orm/pg-core';

export const trustAnchors = pgTable(
  'trust_anchors',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    namespace: varchar('namespace', { length: 128 }).notNull().default('default'),
    issuerUrl: text('issuer_url').notNull(),
    jwksUrl: text('jwks_url'),
    jwksCache: jsonb('jwks_cache'),
    jwksCachedAt: timestamp('jwks_cached_at', { withTimezone: true, mode: 'date' }),
    label: varchar('label', { length: 128 }),
    addedBy: varchar('added_by', { length: 600 }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('trust_anchors_namespace_issuer_uniq').on(t.namespace, t.issuerUrl),
    index('trust_anchors_namespace_idx').on(t.namespace),
    index('trust_anchors_created_at_idx').on(t.createdAt, t.id),
  ],
);

export const pinnedKeys = pgTable(
  'pinned_keys',
  {
    namespace: varchar('namespace', { length: 128 }).notNull().default('default'),
    aid: varchar('aid', { length: 512 }).notNull(),
    // 43-char base64url; the column is wider so a longer key type needs no migration.
    pubkey: varchar('pubkey', { length: 128 }).notNull(),
    label: varchar('label', { length: 128 }),
    addedBy: varchar('added_by', { length: 600 }),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'pinned_keys_pkey', columns: [t.namespace, t.aid] }),
    index('pinned_keys_aid_idx').on(t.aid),
    index('pinned_keys_created_at_idx').on(t.createdAt),
  ],
);
