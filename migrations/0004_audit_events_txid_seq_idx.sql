-- Shadows drizzle/0004_audit_events_txid_seq_idx.sql (journal "when" 1796584725598).
-- Kind: replaces. Run after 0003 is applied and before deploying the release that ships 0004.
-- On failure: DROP INDEX CONCURRENTLY IF EXISTS audit_events_txid_seq_idx; then rerun.
--
-- The audit log integrator reads pending events by (txid, seq). A plain CREATE INDEX would
-- block every ingest for as long as the build over audit_events takes; this builds it without
-- blocking writes. (0003 adds the txid column with a stable default, which Postgres stores
-- once instead of rewriting the table: existing rows all carry the migrating transaction's id.)
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_txid_seq_idx ON audit_events USING btree (txid, seq);

BEGIN;
SELECT pg_advisory_xact_lock(4704383989635958528);
INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
SELECT '0415b9fff341a3abaad831765025da895106b67b5ba6e7804365a98250ab7611', 1796584725598
WHERE NOT EXISTS (SELECT 1 FROM drizzle.__drizzle_migrations WHERE created_at >= 1796584725598);
COMMIT;
