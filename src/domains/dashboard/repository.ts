import { and, asc, desc, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { agents, handshakeSessions } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';
import type { SessionRow } from '../sessions/views.js';

type Reader = Pick<Database, 'select' | 'execute'>;

/** Distinct boundaries listed at most (producers choose the strings). */
export const MAX_BOUNDARY_GROUPS = 100;
export const TOP_CAPABILITIES = 10;

/** The KPIs read from sessions, agents and deliveries (the invocation count comes with the top list). */
export interface SessionKpis {
  agentsRegistered: number;
  handshakesTotal: number;
  handshakesInRange: number;
  handshakesSuccessInRange: number;
  activeSessions: number;
  pendingWebhookDeliveries: number;
}

type Count = string | number;

/**
 * A session's event time on the producer's clock (Ruling 26): when its start event says it
 * started, else when its end event says it ended, else when we stored it. Events count by `ts`
 * the same way, so a batch ingested late lands where it happened, not in the last bucket.
 * The expression matches handshake_sessions_event_time_idx, so range filters use that index.
 */
const SESSION_TIME = sql`coalesce(started_at, completed_at, created_at)`;

/** The KPIs of API.md §8.1 but capability invocations, in one statement. */
export async function readKpis(db: Reader, since: Date): Promise<SessionKpis> {
  const at = since.toISOString();
  const result = await db.execute<Record<keyof SessionKpis, Count>>(sql`
    SELECT
      (SELECT count(*) FROM agents WHERE status = 'active') AS "agentsRegistered",
      (SELECT count(*) FROM handshake_sessions) AS "handshakesTotal",
      s.in_range AS "handshakesInRange", s.success AS "handshakesSuccessInRange", s.started AS "activeSessions",
      (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS "pendingWebhookDeliveries"
    FROM (
      SELECT count(*) AS in_range,
             count(*) FILTER (WHERE status = 'complete') AS success,
             count(*) FILTER (WHERE status = 'started') AS started
      FROM handshake_sessions WHERE ${SESSION_TIME} >= ${at}::timestamptz
    ) s`);
  const row = result.rows[0];
  const n = (key: keyof SessionKpis) => Number(row?.[key] ?? 0);
  return {
    agentsRegistered: n('agentsRegistered'),
    handshakesTotal: n('handshakesTotal'),
    handshakesInRange: n('handshakesInRange'),
    handshakesSuccessInRange: n('handshakesSuccessInRange'),
    activeSessions: n('activeSessions'),
    pendingWebhookDeliveries: n('pendingWebhookDeliveries'),
  };
}

export async function recentSessions(db: Reader, since: Date, limit: number): Promise<SessionRow[]> {
  const time = sql`coalesce(${handshakeSessions.startedAt}, ${handshakeSessions.completedAt}, ${handshakeSessions.createdAt})`;
  return db
    .select()
    .from(handshakeSessions)
    .where(gte(time, since))
    .orderBy(desc(time), asc(handshakeSessions.sessionId))
    .limit(limit);
}

/** Sessions since `since` by boundary (null → `unknown`), count desc, boundary asc. */
export async function sessionsByBoundary(db: Reader, since: Date): Promise<Array<{ boundary: string; count: number }>> {
  const result = await db.execute<{ boundary: string; n: Count }>(sql`
    SELECT COALESCE(boundary, 'unknown') AS boundary, count(*) AS n
    FROM handshake_sessions WHERE ${SESSION_TIME} >= ${since.toISOString()}::timestamptz
    GROUP BY 1 ORDER BY n DESC, boundary ASC LIMIT ${MAX_BOUNDARY_GROUPS}`);
  return result.rows.map((r) => ({ boundary: r.boundary, count: Number(r.n) }));
}

/** Sessions per UTC bucket of their event time t (index = floor(epoch ms / bucketMs)) with `since <= t < until`. */
export async function sessionsPerBucket(db: Reader, since: Date, until: Date, bucketMs: number): Promise<Map<number, number>> {
  const result = await db.execute<{ i: Count; n: Count }>(sql`
    SELECT floor(extract(epoch FROM ${SESSION_TIME}) * 1000 / ${bucketMs}::bigint)::bigint AS i, count(*) AS n
    FROM handshake_sessions
    WHERE ${SESSION_TIME} >= ${since.toISOString()}::timestamptz AND ${SESSION_TIME} < ${until.toISOString()}::timestamptz
    GROUP BY 1`);
  return new Map(result.rows.map((r) => [Number(r.i), Number(r.n)]));
}

export interface CapabilityUsage {
  /** Every `capability.invoked` event since `since`, whatever its payload. */
  total: number;
  top: Array<{ capability: string; count: number }>;
}

/**
 * One scan of the `capability.invoked` events since `since` serves both the KPI and the chart:
 * grouped by string `payload.capability` (anything else groups as null, counted in the total
 * only); top 10 by count desc, capability asc.
 */
export async function capabilityUsage(db: Reader, since: Date): Promise<CapabilityUsage> {
  const result = await db.execute<{ capability: string | null; n: Count; total: Count }>(sql`
    WITH caps AS (
      SELECT CASE WHEN jsonb_typeof(payload->'capability') = 'string' THEN payload->>'capability' END AS capability, count(*) AS n
      FROM audit_events
      WHERE type = 'capability.invoked' AND ts >= ${since.toISOString()}::timestamptz
      GROUP BY 1
    ),
    top AS (SELECT capability, n FROM caps WHERE capability IS NOT NULL ORDER BY n DESC, capability ASC LIMIT ${TOP_CAPABILITIES})
    SELECT t.capability, t.n, s.total FROM (SELECT COALESCE(sum(n), 0) AS total FROM caps) s LEFT JOIN top t ON true
    ORDER BY t.n DESC, t.capability ASC`);
  const top = result.rows.filter((r) => r.capability !== null).map((r) => ({ capability: r.capability as string, count: Number(r.n) }));
  return { total: Number(result.rows[0]?.total ?? 0), top };
}

export type DashboardAgentRow = Pick<typeof agents.$inferSelect, 'aid' | 'displayName' | 'status' | 'registeredAt' | 'lastSeenAt'>;

/** One page of agents, `registered_at` asc, `aid` asc (API.md §8.2); `limit + 1` rows for `hasMore`. */
export async function listAgents(db: Reader, status: DashboardAgentRow['status'] | undefined, page: Page): Promise<DashboardAgentRow[]> {
  return db
    .select({ aid: agents.aid, displayName: agents.displayName, status: agents.status, registeredAt: agents.registeredAt, lastSeenAt: agents.lastSeenAt })
    .from(agents)
    .where(and(status === undefined ? undefined : eq(agents.status, status)))
    .orderBy(asc(agents.registeredAt), asc(agents.aid))
    .limit(page.limit + 1)
    .offset(page.offset);
}

export interface AgentCounts {
  asInitiator: Map<string, number>;
  asResponder: Map<string, number>;
  invocations: Map<string, number>;
}

async function countBy(db: Reader, query: ReturnType<typeof sql>): Promise<Map<string, number>> {
  const result = await db.execute<{ aid: string; n: Count }>(query);
  return new Map(result.rows.map((r) => [r.aid, Number(r.n)]));
}

/** The page's counts, all time: one `= ANY($page_aids)` array parameter per query (API.md §8.2). */
export async function countsForAgents(db: Reader, aids: readonly string[]): Promise<AgentCounts> {
  const pageAids = sql.param([...aids]);
  const [asInitiator, asResponder, invocations] = await Promise.all([
    countBy(db, sql`SELECT aid_a AS aid, count(*) AS n FROM handshake_sessions WHERE aid_a = ANY(${pageAids}::varchar[]) GROUP BY aid_a`),
    countBy(db, sql`SELECT aid_b AS aid, count(*) AS n FROM handshake_sessions WHERE aid_b = ANY(${pageAids}::varchar[]) GROUP BY aid_b`),
    countBy(
      db,
      sql`SELECT aid_a AS aid, count(*) AS n FROM audit_events WHERE type = 'capability.invoked' AND aid_a = ANY(${pageAids}::varchar[]) GROUP BY aid_a`,
    ),
  ]);
  return { asInitiator, asResponder, invocations };
}
