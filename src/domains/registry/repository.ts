import { and, asc, eq, getTableColumns, gt, isNull, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { agents, enrollmentJtis } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';

type Executor = Pick<Database, 'select' | 'insert' | 'update'>;

export type AgentRow = typeof agents.$inferSelect;
/** Every column but the stored envelope, which lists only return on request. */
export type AgentSummaryRow = Omit<AgentRow, 'manifestJson'> & { manifestJson?: string };

export type StatusFilter = 'active' | 'expired' | 'deregistered' | 'all';

export interface AgentFilter {
  capability?: string;
  aid?: string;
  displayName?: string;
  namespace?: string;
  status: StatusFilter;
  includeManifest: boolean;
}

export interface AgentWrite {
  aid: string;
  displayName: string;
  handshakeEndpoint: string;
  offeredCaps: string[];
  manifestJson: string;
  manifestSha256: string;
  manifestExpiresAt: Date | null;
  namespace: string;
}

const allColumns = getTableColumns(agents);
const { manifestJson: _manifestJson, ...summaryColumns } = allColumns;

/** Burns a token's jti; false when it was already used (API.md §2.3 step 9). */
export async function consumeJti(tx: Executor, jti: string, aid: string, expiresAt: Date): Promise<boolean> {
  const rows = await tx
    .insert(enrollmentJtis)
    .values({ jti, aid, expiresAt })
    .onConflictDoNothing({ target: enrollmentJtis.jti })
    .returning({ jti: enrollmentJtis.jti });
  return rows.length === 1;
}

/**
 * Upsert on aid (API.md §2.4): `registered_at` only on first insert. `xmax = 0` holds exactly
 * for a row this statement inserted (an ON CONFLICT update stamps xmax), which tells a first
 * registration from a repeat even when two race on one aid.
 */
export async function upsertAgent(tx: Executor, agent: AgentWrite, now: Date): Promise<{ row: AgentRow; reregistered: boolean }> {
  const changes = { ...agent, status: 'active' as const, deregisteredAt: null, lastEnrolledAt: now, updatedAt: now };
  const [result] = await tx
    .insert(agents)
    .values({ ...changes, registeredAt: now })
    .onConflictDoUpdate({ target: agents.aid, set: changes })
    .returning({ ...allColumns, inserted: sql<boolean>`(xmax = 0)` });
  if (result === undefined) throw new Error('agent upsert returned no row');
  const { inserted, ...row } = result;
  return { row, reregistered: !inserted };
}

/** Ruling 14: an agent whose manifest reached its expiry is expired, whatever the job did yet. */
function statusCondition(status: StatusFilter, now: Date): SQL | undefined {
  const unexpired = or(isNull(agents.manifestExpiresAt), gt(agents.manifestExpiresAt, now));
  const lapsed = and(eq(agents.status, 'active'), lte(agents.manifestExpiresAt, now));
  switch (status) {
    case 'active':
      return and(eq(agents.status, 'active'), unexpired);
    case 'expired':
      return or(eq(agents.status, 'expired'), lapsed);
    case 'deregistered':
      return eq(agents.status, 'deregistered');
    case 'all':
      return undefined;
  }
}

/** Discovery (API.md §2.2): `limit + 1` rows, `registered_at` asc, `aid` asc. */
export async function listAgents(db: Executor, filter: AgentFilter, page: Page, now: Date): Promise<AgentSummaryRow[]> {
  const conditions = [
    statusCondition(filter.status, now),
    // Containment on the jsonb column is what the GIN (jsonb_path_ops) index serves.
    filter.capability === undefined ? undefined : sql`${agents.offeredCaps} @> ${JSON.stringify([filter.capability])}::jsonb`,
    filter.aid === undefined ? undefined : eq(agents.aid, filter.aid),
    filter.displayName === undefined ? undefined : eq(agents.displayName, filter.displayName),
    filter.namespace === undefined ? undefined : eq(agents.namespace, filter.namespace),
  ];
  const columns = filter.includeManifest ? allColumns : summaryColumns;
  return db
    .select(columns)
    .from(agents)
    .where(and(...conditions))
    .orderBy(asc(agents.registeredAt), asc(agents.aid))
    .limit(page.limit + 1)
    .offset(page.offset);
}

export async function findAgent(db: Executor, aid: string): Promise<AgentSummaryRow | undefined> {
  const [row] = await db.select(summaryColumns).from(agents).where(eq(agents.aid, aid));
  return row;
}

export async function findManifestJson(db: Executor, aid: string): Promise<string | undefined> {
  const [row] = await db.select({ manifestJson: agents.manifestJson }).from(agents).where(eq(agents.aid, aid));
  return row?.manifestJson;
}

/** Flips a not-yet-deregistered agent; undefined when there is none to flip (API.md §2.6). */
export async function deregisterAgent(tx: Executor, aid: string, now: Date): Promise<AgentSummaryRow | undefined> {
  const [row] = await tx
    .update(agents)
    .set({ status: 'deregistered', deregisteredAt: now, updatedAt: now })
    .where(and(eq(agents.aid, aid), ne(agents.status, 'deregistered')))
    .returning(summaryColumns);
  return row;
}

/**
 * The expiry job's one statement (OPERATIONS.md §10). Row locks make it single-flight across
 * replicas: a concurrent run waits for ours to commit, re-checks `status = 'active'`, skips.
 */
export async function expireLapsedAgents(tx: Executor, now: Date): Promise<AgentSummaryRow[]> {
  return tx
    .update(agents)
    .set({ status: 'expired', updatedAt: now })
    .where(and(eq(agents.status, 'active'), lte(agents.manifestExpiresAt, now)))
    .returning(summaryColumns);
}
