import { sql } from 'drizzle-orm';
import { isUuid, type StoredEvent } from '../events/index.js';
import { asObject } from './claims.js';
import type { Executor, ProjectionTally } from './tally.js';

/** Descendant walk bound (EVENTS.md §4.5): children of the revoked jti are depth 1. */
export const MAX_REVOCATION_DEPTH = 64;

/**
 * Revocation projection for `tct.revoked` / `delegation.revoked`, whatever the source
 * (EVENTS.md §4.5), in one statement: the TCT with that jti, the delegation with that jti
 * (`explicit`), and every delegation below it (`parent_revoked`), all at the event's `ts`.
 * The walk uses UNION and a depth bound, so a parent_jti cycle ends. The revoked jti itself is
 * excluded from the descendant update so no row is written twice in the statement. It never adds
 * a revocation_entries row: only POST /api/revocation/entries puts a jti on the signed list.
 */
export async function projectRevocation(tx: Executor, event: StoredEvent, tally: ProjectionTally): Promise<void> {
  const jti = asObject(event.payload)?.['jti'];
  if (!isUuid(jti)) {
    tally.skipped.revocation++;
    return;
  }
  await revokeTree(tx, jti.toLowerCase(), event.ts);
}

/** Marks `jti` and its descendants revoked at `at` (rows already revoked keep their state). */
export async function revokeTree(tx: Executor, jti: string, at: Date): Promise<void> {
  const revokedAt = at.toISOString();
  await tx.execute(sql`
    WITH RECURSIVE tree (jti, depth) AS (
      SELECT d.jti, 1 FROM delegations d WHERE d.parent_jti = ${jti}::uuid
      UNION
      SELECT d.jti, tree.depth + 1 FROM delegations d JOIN tree ON d.parent_jti = tree.jti
      WHERE tree.depth < ${MAX_REVOCATION_DEPTH}
    ),
    tct AS (
      UPDATE issued_tcts SET revoked = true, revoked_at = ${revokedAt}::timestamptz
      WHERE jti = ${jti}::uuid AND NOT revoked
      RETURNING jti
    ),
    own AS (
      UPDATE delegations SET revoked = true, revoked_at = ${revokedAt}::timestamptz, revoked_reason = 'explicit'
      WHERE jti = ${jti}::uuid AND NOT revoked
      RETURNING jti
    ),
    descendants AS (
      UPDATE delegations SET revoked = true, revoked_at = ${revokedAt}::timestamptz, revoked_reason = 'parent_revoked'
      WHERE jti IN (SELECT tree.jti FROM tree) AND jti <> ${jti}::uuid AND NOT revoked
      RETURNING jti
    )
    SELECT (SELECT count(*) FROM tct) AS tcts, (SELECT count(*) FROM own) AS own, (SELECT count(*) FROM descendants) AS descendants`);
}
