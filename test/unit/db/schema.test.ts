import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// DATA-MODEL.md makes index and constraint names normative so migrations stay diffable; this
// pins the generated SQL to it without a database. Expectations are written unquoted and
// unqualified: the generated text is normalised the same way before comparing.

const drizzleDir = new URL('../../../drizzle/', import.meta.url);

function normalise(sql: string): string {
  return sql
    .replace(/"(\w+)"\."(\w+)"/g, '$2')
    .replaceAll('"', '')
    .replace(/\s*,\s*/g, ', ')
    .replace(/\s+/g, ' ')
    .trim();
}

function targetTable(statement: string): string | undefined {
  return /^(?:CREATE TABLE|ALTER TABLE|CREATE (?:UNIQUE )?INDEX \w+ ON) (\w+)/.exec(statement)?.[1];
}

const statements = readdirSync(drizzleDir)
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .flatMap((file) => readFileSync(new URL(file, drizzleDir), 'utf8').split('--> statement-breakpoint'))
  .map(normalise)
  .filter((statement) => statement.length > 0);

/** Each index as the migrations leave it: a later CREATE replaces an index an earlier DROP removed. */
const finalIndexes = new Map<string, string>();
for (const statement of statements) {
  const dropped = /^DROP INDEX (\w+)/.exec(statement)?.[1];
  if (dropped !== undefined) finalIndexes.delete(dropped);
  const created = /^CREATE (?:UNIQUE )?INDEX (\w+)/.exec(statement)?.[1];
  if (created !== undefined) finalIndexes.set(created, statement);
}

function statementsOn(table: string): string[] {
  return statements.filter((statement) => targetTable(statement) === table);
}

const tables = [
  'agents', 'handshake_sessions', 'audit_events', 'issued_tcts', 'delegations', 'revocation_entries',
  'webhooks', 'webhook_deliveries', 'admin_audit_log', 'idempotency_keys', 'enrollment_jtis',
  'trust_anchors', 'pinned_keys', 'audit_log_state', 'audit_log_tiles', 'audit_log_bundles', 'audit_log_checkpoints',
  'audit_log_sweeps',
];

// [table, index name, USING method and column list, partial-index predicate]
const indexes: Array<[string, string, string, string?]> = [
  ['agents', 'agents_status_idx', 'btree (status)'],
  ['agents', 'agents_registered_at_idx', 'btree (registered_at, aid)'],
  ['agents', 'agents_namespace_idx', 'btree (namespace)'],
  ['agents', 'agents_display_name_idx', 'btree (display_name)'],
  // fastupdate off: no pending list for discovery searches to scan (drizzle/0001).
  ['agents', 'agents_offered_caps_gin', 'gin (offered_caps jsonb_path_ops) WITH (fastupdate=false)'],
  ['agents', 'agents_expiry_idx', 'btree (manifest_expires_at)', "status = 'active' AND manifest_expires_at IS NOT NULL"],
  ['agents', 'agents_deregistered_at_idx', 'btree (deregistered_at)', "status = 'deregistered'"],
  ['handshake_sessions', 'handshake_sessions_status_idx', 'btree (status)'],
  ['handshake_sessions', 'handshake_sessions_aid_a_idx', 'btree (aid_a)'],
  ['handshake_sessions', 'handshake_sessions_aid_b_idx', 'btree (aid_b)'],
  ['handshake_sessions', 'handshake_sessions_run_id_idx', 'btree (run_id)'],
  ['handshake_sessions', 'handshake_sessions_created_at_idx', 'btree (created_at, session_id)'],
  // Ruling 26: the dashboard's event time.
  ['handshake_sessions', 'handshake_sessions_event_time_idx', 'btree (coalesce(started_at, completed_at, created_at))'],
  ['handshake_sessions', 'handshake_sessions_updated_at_idx', 'btree (updated_at)'],
  ['audit_events', 'audit_events_ts_idx', 'btree (ts, seq)'],
  ['audit_events', 'audit_events_type_ts_idx', 'btree (type, ts)'],
  ['audit_events', 'audit_events_session_ts_idx', 'btree (session_id, ts, seq)'],
  ['audit_events', 'audit_events_run_id_idx', 'btree (run_id)'],
  ['audit_events', 'audit_events_aid_a_idx', 'btree (aid_a, ts)'],
  ['audit_events', 'audit_events_aid_b_idx', 'btree (aid_b, ts)'],
  ['audit_events', 'audit_events_created_at_idx', 'btree (created_at)'],
  ['audit_events', 'audit_events_txid_seq_idx', 'btree (txid, seq)'],
  ['issued_tcts', 'issued_tcts_issuer_idx', 'btree (issuer_aid)'],
  ['issued_tcts', 'issued_tcts_subject_idx', 'btree (subject_aid)'],
  ['issued_tcts', 'issued_tcts_audience_idx', 'btree (audience_aid)'],
  ['issued_tcts', 'issued_tcts_session_idx', 'btree (session_id)'],
  ['issued_tcts', 'issued_tcts_grants_gin', 'gin (grants jsonb_path_ops)'],
  ['issued_tcts', 'issued_tcts_issued_at_idx', 'btree (issued_at, jti)'],
  ['delegations', 'delegations_parent_idx', 'btree (parent_jti)'],
  ['delegations', 'delegations_delegator_idx', 'btree (delegator_aid)'],
  ['delegations', 'delegations_delegatee_idx', 'btree (delegatee_aid)'],
  ['delegations', 'delegations_issued_at_idx', 'btree (issued_at, jti)'],
  ['revocation_entries', 'revocation_entries_revoked_at_idx', 'btree (revoked_at, jti)'],
  ['webhooks', 'webhooks_active_idx', 'btree (active)'],
  ['webhooks', 'webhooks_created_at_idx', 'btree (created_at, id)'],
  // NULLS FIRST is what a bare DESC means in Postgres, so a plain `ORDER BY created_at DESC` uses it.
  ['webhook_deliveries', 'webhook_deliveries_webhook_created_idx', 'btree (webhook_id, created_at DESC NULLS FIRST, id)'],
  ['webhook_deliveries', 'webhook_deliveries_due_idx', 'btree (next_retry_at, created_at)', "status = 'pending'"],
  // The fair claim (WEBHOOK_CONCURRENCY_PER_TARGET): each webhook's own due rows.
  ['webhook_deliveries', 'webhook_deliveries_pending_webhook_idx', 'btree (webhook_id, next_retry_at, created_at)', "status = 'pending'"],
  ['webhook_deliveries', 'webhook_deliveries_status_created_idx', 'btree (status, created_at)'],
  ['webhook_deliveries', 'webhook_deliveries_redelivery_idx', 'btree (redelivery_of)', 'redelivery_of IS NOT NULL'],
  ['admin_audit_log', 'admin_audit_created_at_idx', 'btree (created_at, id)'],
  ['admin_audit_log', 'admin_audit_actor_idx', 'btree (actor_id)'],
  ['admin_audit_log', 'admin_audit_action_idx', 'btree (action)'],
  ['admin_audit_log', 'admin_audit_target_idx', 'btree (target_id)'],
  ['admin_audit_log', 'admin_audit_txid_idx', 'btree (txid)'],
  ['idempotency_keys', 'idempotency_keys_created_at_idx', 'btree (created_at)'],
  ['enrollment_jtis', 'enrollment_jtis_expires_at_idx', 'btree (expires_at)'],
  ['trust_anchors', 'trust_anchors_namespace_idx', 'btree (namespace)'],
  ['trust_anchors', 'trust_anchors_created_at_idx', 'btree (created_at, id)'],
  ['pinned_keys', 'pinned_keys_aid_idx', 'btree (aid)'],
  ['pinned_keys', 'pinned_keys_created_at_idx', 'btree (created_at)'],
];

// [table, constraint name, definition]
const constraints: Array<[string, string, string]> = [
  ['agents', 'agents_status_ck', "CHECK (status IN ('active', 'expired', 'deregistered'))"],
  ['agents', 'agents_deregistered_ck', "CHECK ((status = 'deregistered') = (deregistered_at IS NOT NULL))"],
  ['handshake_sessions', 'handshake_sessions_status_ck', "CHECK (status IN ('started', 'complete', 'failed'))"],
  ['audit_events', 'audit_events_seq_key', 'UNIQUE(seq)'],
  [
    'delegations',
    'delegations_revoked_reason_ck',
    "CHECK (revoked_reason IS NULL OR revoked_reason IN ('explicit', 'parent_revoked'))",
  ],
  ['webhook_deliveries', 'webhook_deliveries_status_ck', "CHECK (status IN ('pending', 'delivered', 'failed'))"],
  [
    'webhook_deliveries',
    'webhook_deliveries_webhook_id_fk',
    'FOREIGN KEY (webhook_id) REFERENCES webhooks(id) ON DELETE cascade',
  ],
  [
    'webhook_deliveries',
    'webhook_deliveries_redelivery_of_fk',
    'FOREIGN KEY (redelivery_of) REFERENCES webhook_deliveries(id) ON DELETE set null',
  ],
  ['idempotency_keys', 'idempotency_keys_pkey', 'PRIMARY KEY(scope, caller, key)'],
  ['idempotency_keys', 'idempotency_keys_state_ck', "CHECK (state IN ('in_progress', 'completed'))"],
  ['trust_anchors', 'trust_anchors_namespace_issuer_uniq', 'UNIQUE(namespace, issuer_url)'],
  ['pinned_keys', 'pinned_keys_pkey', 'PRIMARY KEY(namespace, aid)'],
  ['audit_log_tiles', 'audit_log_tiles_pkey', 'PRIMARY KEY(level, tile_index)'],
];

// [table, column definition] for the columns whose type or default DATA-MODEL.md singles out.
const columns: Array<[string, string]> = [
  ['audit_events', 'seq bigint GENERATED ALWAYS AS IDENTITY'],
  ['audit_events', 'id uuid PRIMARY KEY NOT NULL,'],
  ['audit_events', "payload jsonb DEFAULT '{}'::jsonb NOT NULL"],
  ['agents', "offered_caps jsonb DEFAULT '[]'::jsonb NOT NULL"],
  ['agents', "metadata jsonb DEFAULT '{}'::jsonb NOT NULL"],
  ['agents', 'manifest_sha256 char(64) NOT NULL'],
  ['agents', "status varchar(32) DEFAULT 'active' NOT NULL"],
  ['agents', 'registered_at timestamp with time zone DEFAULT now() NOT NULL'],
  ['issued_tcts', 'jti uuid PRIMARY KEY NOT NULL,'],
  ['webhooks', 'id uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL'],
  ['webhook_deliveries', 'id uuid PRIMARY KEY NOT NULL,'],
  ['admin_audit_log', "details jsonb DEFAULT '{}'::jsonb,"],
  ['idempotency_keys', 'request_hash char(64) NOT NULL'],
  ['trust_anchors', 'id uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL'],
];

describe('generated migrations match DATA-MODEL.md', () => {
  it('creates exactly the tables of the data model', () => {
    const created = statements.flatMap((s) => /^CREATE TABLE (\w+)/.exec(s)?.[1] ?? []);
    expect(created.sort()).toEqual([...tables].sort());
  });

  it.each(indexes)('%s has index %s', (table, name, definition, where) => {
    const expected = `CREATE INDEX ${name} ON ${table} USING ${definition}${where ? ` WHERE ${where}` : ''};`;
    expect(finalIndexes.get(name)).toBe(expected);
  });

  it('leaves no index the data model does not name', () => {
    expect([...finalIndexes.keys()].sort()).toEqual(indexes.map(([, name]) => name).sort());
  });

  it.each(constraints)('%s has constraint %s', (table, name, definition) => {
    const expected = `CONSTRAINT ${name} ${definition}`;
    expect(statementsOn(table).some((s) => s.includes(expected))).toBe(true);
  });

  it('names every constraint it creates', () => {
    const named = statements.flatMap((s) => [...s.matchAll(/CONSTRAINT (\w+)/g)].map((m) => m[1]));
    expect(named.sort()).toEqual(constraints.map(([, name]) => name).sort());
  });

  it.each(columns)('%s column %s', (table, definition) => {
    expect(statementsOn(table).some((s) => s.startsWith('CREATE TABLE') && s.includes(definition))).toBe(true);
  });
});
