-- Shadows drizzle/0001_agents_caps_gin_fastupdate_off.sql (journal "when" 1795546443433).
-- Kind: replaces. Run after 0000 is applied and before deploying the release that ships 0001.
-- On failure: rerun; every statement is idempotent.
--
-- The drizzle migration drops and rebuilds agents_offered_caps_gin, holding a lock on agents
-- (enrollment and discovery wait) for as long as the build takes. Turning the pending list off
-- in place reaches the same index without a rebuild: the ALTER only changes the index's options,
-- and gin_clean_pending_list moves the entries already pending into the main index.
ALTER INDEX agents_offered_caps_gin SET (fastupdate = false);
SELECT gin_clean_pending_list('agents_offered_caps_gin'::regclass);

BEGIN;
SELECT pg_advisory_xact_lock(4704383989635958528);
INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
SELECT '1e45f3759d5800278f3f42ce8408ed4cf090ae5a07048bc5afe6dc7056500866', 1795546443433
WHERE NOT EXISTS (SELECT 1 FROM drizzle.__drizzle_migrations WHERE created_at >= 1795546443433);
COMMIT;
