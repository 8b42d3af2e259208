import { and, asc, desc, eq, gt, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { delegations, issuedTcts } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';
import type { DelegationRow, TctRow } from './views.js';

type Reader = Pick<Database, 'select'>;

/** Tree walk bound (API.md §9.2), the same as the revocation cascade's (EVENTS.md §4.5). */
export const MAX_TREE_DEPTH = 64;

export interface TctFilter {
  issuer?: string;
  subject?: string;
  audience?: string;
  capability?: string;
  sessionId?: string;
  jti?: string;
  /** Only rows not revoked and not expired at this instant. */
  activeAt?: Date;
}

function tctConditions(f: TctFilter): SQL | undefined {
  return and(
    f.issuer === undefined ? undefined : eq(issuedTcts.issuerAid, f.issuer),
    f.subject === undefined ? undefined : eq(issuedTcts.subjectAid, f.subject),
    f.audience === undefined ? undefined : eq(issuedTcts.audienceAid, f.audience),
    // Containment with a constant array is what issued_tcts_grants_gin (jsonb_path_ops) serves.
    f.capability === undefined ? undefined : sql`${issuedTcts.grants} @> ${JSON.stringify([f.capability])}::jsonb`,
    f.sessionId === undefined ? undefined : eq(issuedTcts.sessionId, f.sessionId),
    f.jti === undefined ? undefined : eq(issuedTcts.jti, f.jti),
    f.activeAt === undefined
      ? undefined
      : and(eq(issuedTcts.revoked, false), or(isNull(issuedTcts.expiresAt), gt(issuedTcts.expiresAt, f.activeAt))),
  );
}

/** One page, `issued_at` desc, `jti` asc (API.md §9.1); `limit + 1` rows for `hasMore`. */
export async function listTcts(db: Reader, filter: TctFilter, page: Page): Promise<TctRow[]> {
  return db
    .select()
    .from(issuedTcts)
    .where(tctConditions(filter))
    .orderBy(desc(issuedTcts.issuedAt), asc(issuedTcts.jti))
    .limit(page.limit + 1)
    .offset(page.offset);
}

/** Keyset position in (issued_at, jti) order; the timestamp as Postgres text keeps its microseconds. */
export interface TctCursor {
  issuedAtKey: string;
  jti: string;
}

export type KeyedTctRow = TctRow & { issuedAtKey: string };

/** The next `limit` TCTs of a session after `after`, `issued_at` asc, `jti` asc (exports). */
export async function sessionTctBatch(db: Reader, sessionId: string, after: TctCursor | undefined, limit: number): Promise<KeyedTctRow[]> {
  const rows = await db
    .select({ row: issuedTcts, issuedAtKey: sql<string>`${issuedTcts.issuedAt}::text` })
    .from(issuedTcts)
    .where(
      and(
        eq(issuedTcts.sessionId, sessionId),
        after === undefined ? undefined : sql`(${issuedTcts.issuedAt}, ${issuedTcts.jti}) > (${after.issuedAtKey}::timestamptz, ${after.jti}::uuid)`,
      ),
    )
    .orderBy(asc(issuedTcts.issuedAt), asc(issuedTcts.jti))
    .limit(limit);
  return rows.map((r) => ({ ...r.row, issuedAtKey: r.issuedAtKey }));
}

/** How many TCTs a session has, counting no further than `cap`. */
export async function countSessionTcts(db: Reader, sessionId: string, cap: number): Promise<number> {
  const inner = db.select({ one: sql`1` }).from(issuedTcts).where(eq(issuedTcts.sessionId, sessionId)).limit(cap).as('capped');
  const [row] = await db.select({ n: sql<string>`count(*)` }).from(inner);
  return Number(row?.n ?? 0);
}

export interface DelegationFilter {
  /** Tree mode (API.md §9.2). */
  rootJti?: string;
  parentJti?: string;
  delegator?: string;
  delegatee?: string;
  activeAt?: Date;
}

/**
 * The tree under `root` (API.md §9.2): start set = the row with jti = root (depth 0) and the
 * rows whose parent is root (depth 1), so a TCT root works too; then descendants through
 * parent_jti up to depth 64. UNION over (jti, depth) plus the depth bound ends any parent cycle.
 */
function inTree(root: string): SQL {
  return sql`${delegations.jti} IN (
    WITH RECURSIVE tree (jti, depth) AS (
      SELECT d.jti, CASE WHEN d.jti = ${root}::uuid THEN 0 ELSE 1 END
        FROM delegations d WHERE d.jti = ${root}::uuid OR d.parent_jti = ${root}::uuid
      UNION
      SELECT d.jti, tree.depth + 1 FROM delegations d JOIN tree ON d.parent_jti = tree.jti
       WHERE tree.depth < ${MAX_TREE_DEPTH}
    )
    SELECT tree.jti FROM tree)`;
}

function delegationConditions(f: DelegationFilter): SQL | undefined {
  return and(
    f.rootJti === undefined ? undefined : inTree(f.rootJti),
    f.parentJti === undefined ? undefined : eq(delegations.parentJti, f.parentJti),
    f.delegator === undefined ? undefined : eq(delegations.delegatorAid, f.delegator),
    f.delegatee === undefined ? undefined : eq(delegations.delegateeAid, f.delegatee),
    f.activeAt === undefined
      ? undefined
      : and(eq(delegations.revoked, false), or(isNull(delegations.expiresAt), gt(delegations.expiresAt, f.activeAt))),
  );
}

/** One page; list mode `issued_at` desc, tree mode `issued_at` asc; `jti` asc breaks ties. */
export async function listDelegations(db: Reader, filter: DelegationFilter, page: Page): Promise<DelegationRow[]> {
  const byIssuedAt = filter.rootJti === undefined ? desc(delegations.issuedAt) : asc(delegations.issuedAt);
  return db
    .select()
    .from(delegations)
    .where(delegationConditions(filter))
    .orderBy(byIssuedAt, asc(delegations.jti))
    .limit(page.limit + 1)
    .offset(page.offset);
}
