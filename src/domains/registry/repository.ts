import { and, eq, getTableColumns, lte, ne, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { queryText, type TextRow } from '../../db/raw-query.js';
import { agents, enrollmentJtis } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';

type Executor = Pick<Database, 'select' | 'insert' | 'update'>;
type Queryable = Parameters<typeof queryText>[0];

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

/**
 * The Agent view's columns (API.md §0.5) as text (src/db/raw-query.ts). Ruling 14: an active
 * agent whose manifest reached its expiry ($1 = now) reads as expired, whatever the job did yet.
 */
const STATUS = `CASE WHEN status = 'active' AND manifest_expires_at <= $1 THEN 'expired' ELSE status END`;
const VIEW_COLUMNS = `aid, display_name, handshake_endpoint, offered_caps, ${STATUS} AS status,
  namespace, registered_at, last_enrolled_at, last_seen_at, manifest_expires_at, deregistered_at`;

/**
 * What a rendered Agent view depends on: the row version (a new `xmin` for every committed change
 * of the row, last_seen_at included) and the status as of $1.
 */
const VERSION = `xmin::text || ' ' || ${STATUS} AS version`;

/** The same rule as a filter, on the columns the indexes serve. */
const STATUS_CONDITION: Record<StatusFilter, string | undefined> = {
  active: `status = 'active' AND (manifest_expires_at IS NULL OR manifest_expires_at > $1)`,
  expired: `(status = 'expired' OR (status = 'active' AND manifest_expires_at <= $1))`,
  deregistered: `status = 'deregistered'`,
  all: undefined,
};

/**
 * Discovery (API.md §2.2): `limit + 1` rows, `registered_at` asc, `aid` asc. The text depends
 * only on which filters are present, so each combination is one prepared statement.
 */
function discoveryQuery(filter: AgentFilter, page: Page, now: Date, columns: string): { text: string; values: unknown[] } {
  const values: unknown[] = [now.toISOString()];
  const conditions: string[] = [];
  const status = STATUS_CONDITION[filter.status];
  if (status !== undefined) conditions.push(status);
  const bind = (column: string, value: unknown, cast = '') => {
    values.push(value);
    conditions.push(`${column} ${cast === '::jsonb' ? '@>' : '='} $${values.length}${cast}`);
  };
  // Containment on the jsonb column is what the GIN (jsonb_path_ops) index serves.
  if (filter.capability !== undefined) bind('offered_caps', JSON.stringify([filter.capability]), '::jsonb');
  if (filter.aid !== undefined) bind('aid', filter.aid);
  if (filter.displayName !== undefined) bind('display_name', filter.displayName);
  if (filter.namespace !== undefined) bind('namespace', filter.namespace);
  values.push(page.limit + 1, page.offset);
  const text =
    `SELECT ${columns} FROM agents` +
    (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
    ` ORDER BY registered_at, aid LIMIT $${values.length - 1} OFFSET $${values.length}`;
  return { text, values };
}

/** The page's rows with every Agent view column, `version` (and `manifest_json` on request), in one statement. */
export async function listAgentRows(pool: Queryable, filter: AgentFilter, page: Page, now: Date): Promise<TextRow[]> {
  const columns = `${VIEW_COLUMNS}, ${VERSION}${filter.includeManifest ? ', manifest_json' : ''}`;
  const { text, values } = discoveryQuery(filter, page, now, columns);
  return queryText(pool, text, values);
}

/** Only the `aid` and `version` of the page's rows, in page order. */
export async function listAgentVersions(pool: Queryable, filter: AgentFilter, page: Page, now: Date): Promise<TextRow[]> {
  const { text, values } = discoveryQuery(filter, page, now, `aid, ${VERSION}`);
  return queryText(pool, text, values);
}

/** The Agent view columns and `version` of the given agents, in no particular order. */
export async function findAgentsByAid(pool: Queryable, aids: string[], now: Date): Promise<TextRow[]> {
  return queryText(pool, `SELECT ${VIEW_COLUMNS}, ${VERSION} FROM agents WHERE aid = ANY($2::varchar[])`, [now.toISOString(), aids]);
}

export async function findAgentRow(pool: Queryable, aid: string, now: Date): Promise<TextRow | undefined> {
  const [row] = await queryText(pool, `SELECT ${VIEW_COLUMNS} FROM agents WHERE aid = $2`, [now.toISOString(), aid]);
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
