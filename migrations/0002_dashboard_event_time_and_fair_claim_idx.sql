-- Shadows drizzle/0002_dashboard_event_time_and_fair_claim_idx.sql (journal "when" 1796579636673).
-- Kind: replaces. Run after 0001 is applied and before deploying the release that ships 0002.
-- On failure: DROP INDEX CONCURRENTLY IF EXISTS handshake_sessions_event_time_idx;
--   DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_pending_webhook_idx; then rerun.
--
-- Both tables are hot (ingest writes sessions, every event enqueues deliveries): a plain
-- CREATE INDEX would block those writes for as long as the build scans the table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS handshake_sessions_event_time_idx
  ON handshake_sessions USING btree (coalesce(started_at, completed_at, created_at));
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_pending_webhook_idx
  ON webhook_deliveries USING btree (webhook_id, next_retry_at, created_at) WHERE status = 'pending';

BEGIN;
SELECT pg_advisory_xact_lock(4704383989635958528);
INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
SELECT 'b3ffc28a2339d17b0c3153eaa338b090e310b779693bba75464f42501e0c915b', 1796579636673
WHERE NOT EXISTS (SELECT 1 FROM drizzle.__drizzle_migrations WHERE created_at >= 1796579636673);
COMMIT;
