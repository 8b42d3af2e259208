import { sql } from 'drizzle-orm';
import { isUuid, type StoredEvent } from '../events/index.js';
import { asObject, firstEpoch, firstString, fitsIn, nonEmptyString, stringArray, type Claims } from './claims.js';
import type { Executor, ProjectionTally } from './tally.js';
import { MAX_AID_LENGTH } from '../../lib/schemas.js';

const MAX_CNF = 128;

export interface TctRow {
  jti: string;
  issuer: string;
  subject: string;
  audience: string;
  grants: string[];
  bindingCnf: string | null;
  issuedAt: Date;
  expiresAt: Date | null;
  sessionId: string | null;
}

/** `payload.tcts` if an array, else `[payload.tct]` if an object, else none (EVENTS.md §4.3). */
function itemsOf(payload: Claims | undefined): unknown[] {
  if (Array.isArray(payload?.['tcts'])) return payload['tcts'] as unknown[];
  const single = asObject(payload?.['tct']);
  return single ? [single] : [];
}

function audienceOf(claims: Claims): string | undefined {
  const aud = claims['aud'];
  if (typeof aud === 'string' && aud !== '') return aud;
  if (Array.isArray(aud)) {
    const first = aud.find((item): item is string => typeof item === 'string' && item !== '');
    if (first !== undefined) return first;
  }
  return firstString([claims, 'audience'], [claims, 'audience_aid'], [claims, 'audienceAid']);
}

/** `cnf.jkt`, else `cnf` as a string, else `binding.cnf`; over 128 code points → null (counted). */
function bindingOf(claims: Claims, tally: ProjectionTally): string | null {
  const cnf = claims['cnf'];
  const value = firstString([asObject(cnf), 'jkt']) ?? nonEmptyString(cnf) ?? firstString([asObject(claims['binding']), 'cnf']);
  if (value === undefined) return null;
  if (fitsIn(value, MAX_CNF)) return value;
  tally.skipped.tct++;
  return null;
}

/** One reported TCT as a row, or undefined when a required claim is missing or unusable. */
export function tctRowOf(item: unknown, event: StoredEvent, tally: ProjectionTally): TctRow | undefined {
  const wrapper = asObject(item);
  if (!wrapper) return undefined;
  const claims = asObject(wrapper['claims']) ?? wrapper;
  const jti = claims['jti'];
  const issuer = firstString([claims, 'iss'], [claims, 'issuer'], [claims, 'issuer_aid'], [claims, 'issuerAid']);
  const subject = firstString([claims, 'sub'], [claims, 'subject'], [claims, 'subject_aid'], [claims, 'subjectAid']);
  if (!isUuid(jti) || issuer === undefined || subject === undefined) return undefined;
  const audience = audienceOf(claims) ?? subject;
  if (![issuer, subject, audience].every((aid) => fitsIn(aid, MAX_AID_LENGTH))) return undefined;
  return {
    jti: jti.toLowerCase(),
    issuer,
    subject,
    audience,
    grants: stringArray(claims['grants']) ?? [],
    bindingCnf: bindingOf(claims, tally),
    issuedAt: firstEpoch(claims, ['iat', 'issued_at']) ?? event.ts,
    expiresAt: firstEpoch(claims, ['exp', 'expires_at']) ?? null,
    sessionId: event.sessionId,
  };
}

/**
 * TCT projection for `tct.issued` and `handshake.complete(d)` (EVENTS.md §4.3): every usable item
 * of these events, in order, in one INSERT (a jti repeated among them keeps its first item, as
 * one-by-one inserts would); a jti already on the revocation list is inserted revoked with that
 * entry's time.
 */
export async function projectTcts(tx: Executor, events: readonly StoredEvent[], tally: ProjectionTally): Promise<void> {
  const rows: TctRow[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    for (const item of itemsOf(asObject(event.payload))) {
      const row = tctRowOf(item, event, tally);
      if (!row) {
        tally.skipped.tct++;
      } else if (!seen.has(row.jti)) {
        seen.add(row.jti);
        rows.push(row);
      }
    }
  }
  if (rows.length === 0) return;
  const col = <T>(pick: (row: TctRow) => T) => sql.param(rows.map(pick));
  await tx.execute(sql`
    INSERT INTO issued_tcts
      (jti, issuer_aid, subject_aid, audience_aid, grants, binding_cnf, issued_at, expires_at, session_id, revoked, revoked_at)
    SELECT t.jti, t.issuer, t.subject, t.audience, t.grants, t.cnf, t.issued_at, t.expires_at, t.session_id,
      r.jti IS NOT NULL, r.revoked_at
    FROM unnest(
      ${col((r) => r.jti)}::uuid[], ${col((r) => r.issuer)}::varchar[], ${col((r) => r.subject)}::varchar[],
      ${col((r) => r.audience)}::varchar[], ${col((r) => JSON.stringify(r.grants))}::jsonb[], ${col((r) => r.bindingCnf)}::varchar[],
      ${col((r) => r.issuedAt.toISOString())}::timestamptz[], ${col((r) => r.expiresAt?.toISOString() ?? null)}::timestamptz[],
      ${col((r) => r.sessionId)}::varchar[]
    ) AS t(jti, issuer, subject, audience, grants, cnf, issued_at, expires_at, session_id)
    LEFT JOIN revocation_entries r ON r.jti = t.jti
    ON CONFLICT (jti) DO NOTHING`);
}
