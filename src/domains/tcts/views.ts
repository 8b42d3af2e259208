import type { delegations, issuedTcts } from '../../db/schema/index.js';
import { toIso } from '../../lib/timestamps.js';
import type { Delegation, Tct, TctRecord } from './schemas.js';

export type TctRow = typeof issuedTcts.$inferSelect;
export type DelegationRow = typeof delegations.$inferSelect;

/** API.md §0.5 Tct. */
export function toTctView(row: TctRow): Tct {
  return {
    jti: row.jti,
    issuer: row.issuerAid,
    subject: row.subjectAid,
    audience: row.audienceAid,
    grants: row.grants,
    bindingCnf: row.bindingCnf,
    issuedAt: toIso(row.issuedAt),
    expiresAt: toIso(row.expiresAt),
    sessionId: row.sessionId,
    revoked: row.revoked,
    revokedAt: toIso(row.revokedAt),
  };
}

/** TctRecord (API.md §2.8): the export form, every column. */
export function toTctRecord(row: TctRow): TctRecord {
  return {
    jti: row.jti,
    issuerAid: row.issuerAid,
    subjectAid: row.subjectAid,
    audienceAid: row.audienceAid,
    grants: row.grants,
    bindingCnf: row.bindingCnf,
    issuedAt: toIso(row.issuedAt),
    expiresAt: toIso(row.expiresAt),
    sessionId: row.sessionId,
    revoked: row.revoked,
    revokedAt: toIso(row.revokedAt),
    createdAt: toIso(row.createdAt),
  };
}

/** API.md §0.5 Delegation. */
export function toDelegationView(row: DelegationRow): Delegation {
  return {
    jti: row.jti,
    parentJti: row.parentJti,
    delegator: row.delegatorAid,
    delegatee: row.delegateeAid,
    scope: row.scope,
    issuedAt: toIso(row.issuedAt),
    expiresAt: toIso(row.expiresAt),
    revoked: row.revoked,
    revokedAt: toIso(row.revokedAt),
    revokedReason: row.revokedReason,
    sessionId: row.sessionId,
  };
}
