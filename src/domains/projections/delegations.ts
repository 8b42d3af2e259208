import { sql } from 'drizzle-orm';
import { isUuid, type StoredEvent } from '../events/index.js';
import { asObject, firstEpoch, firstString, fitsIn, stringArray, type Claims } from './claims.js';
import type { Executor, ProjectionTally } from './tally.js';
import { syntheticDelegationJti, voucherParentJti } from './voucher.js';
import { MAX_AID_LENGTH } from '../../lib/schemas.js';


export interface DelegationRow {
  jti: string;
  parentJti: string;
  delegator: string;
  delegatee: string;
  scope: string[];
  issuedAt: Date;
  expiresAt: Date | null;
  sessionId: string | null;
}

/** The field table of EVENTS.md §4.4; undefined when a required value is missing or unusable. */
export function delegationRowOf(event: StoredEvent): DelegationRow | undefined {
  const payload = asObject(event.payload) ?? {};
  const wrapper = asObject(payload['tct']) ?? asObject(payload['delegation']);
  const claims: Claims = asObject(wrapper?.['claims']) ?? wrapper ?? payload;
  const delegator = firstString(
    [payload, 'delegator_aid'], [payload, 'delegator'], [claims, 'delegator'], [claims, 'delegator_aid'], [claims, 'iss'],
  );
  const delegatee = firstString(
    [payload, 'delegatee_aid'], [payload, 'delegatee'], [claims, 'delegatee'], [claims, 'delegatee_aid'], [claims, 'sub'],
  );
  const parentJti =
    firstString(
      [payload, 'parent_jti'], [payload, 'parentJti'], [payload, 'src_jti'], [claims, 'src_jti'], [claims, 'parent_jti'], [claims, 'parentJti'],
    ) ?? voucherParentJti(claims);
  const token = wrapper?.['token'];
  const jti =
    firstString([payload, 'jti'], [payload, 'child_jti'], [claims, 'jti'], [claims, 'child_jti']) ??
    (typeof token === 'string' ? syntheticDelegationJti(token) : undefined);
  if (!isUuid(jti) || !isUuid(parentJti) || delegator === undefined || delegatee === undefined) return undefined;
  if (!fitsIn(delegator, MAX_AID_LENGTH) || !fitsIn(delegatee, MAX_AID_LENGTH)) return undefined;
  return {
    jti: jti.toLowerCase(),
    parentJti: parentJti.toLowerCase(),
    delegator,
    delegatee,
    scope: stringArray(claims['scope']) ?? stringArray(claims['grants']) ?? [],
    issuedAt: firstEpoch(claims, ['iat', 'issued_at']) ?? event.ts,
    expiresAt: firstEpoch(claims, ['exp', 'expires_at']) ?? null,
    sessionId: event.sessionId,
  };
}

/**
 * Delegation projection (EVENTS.md §4.4), one statement. At insert: its own jti on the revocation
 * list → revoked `explicit` at that entry's time; else a revoked parent (TCT, delegation, or
 * revocation entry) → revoked `parent_revoked` at the parent's time.
 */
export async function projectDelegation(tx: Executor, event: StoredEvent, tally: ProjectionTally): Promise<void> {
  const row = delegationRowOf(event);
  if (!row) {
    tally.skipped.delegation++;
    return;
  }
  await tx.execute(sql`
    INSERT INTO delegations
      (jti, parent_jti, delegator_aid, delegatee_aid, scope, issued_at, expires_at, session_id, revoked, revoked_at, revoked_reason)
    SELECT v.jti, v.parent_jti, ${row.delegator}, ${row.delegatee}, ${JSON.stringify(row.scope)}::jsonb,
      ${row.issuedAt.toISOString()}::timestamptz, ${row.expiresAt?.toISOString() ?? null}::timestamptz, ${row.sessionId},
      own.jti IS NOT NULL OR coalesce(parent.found, false),
      CASE WHEN own.jti IS NOT NULL THEN own.revoked_at ELSE parent.revoked_at END,
      CASE WHEN own.jti IS NOT NULL THEN 'explicit' WHEN parent.found THEN 'parent_revoked' END
    FROM (VALUES (${row.jti}::uuid, ${row.parentJti}::uuid)) AS v(jti, parent_jti)
    LEFT JOIN revocation_entries own ON own.jti = v.jti
    LEFT JOIN LATERAL (
      SELECT true AS found, p.revoked_at FROM (
        SELECT 1 AS rank, revoked_at FROM issued_tcts WHERE jti = v.parent_jti AND revoked
        UNION ALL SELECT 2, revoked_at FROM delegations WHERE jti = v.parent_jti AND revoked
        UNION ALL SELECT 3, revoked_at FROM revocation_entries WHERE jti = v.parent_jti
      ) p ORDER BY p.rank LIMIT 1
    ) parent ON true
    ON CONFLICT (jti) DO NOTHING`);
}
