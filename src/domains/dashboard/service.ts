import type { Database } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { toIso } from '../../lib/timestamps.js';
import { RANGES, resolveRange, zeroFilledBuckets } from './buckets.js';
import { capabilityUsage, countsForAgents, listAgents, readKpis, recentSessions, sessionsByBoundary, sessionsPerBucket } from './repository.js';
import type { DashboardAgentsQuery, Overview, OverviewQuery } from './schemas.js';

export interface DashboardServiceDeps {
  db: Pick<Database, 'select' | 'execute'>;
  clock: Clock;
}

const RECENT_SESSIONS = 20;

/** GET /api/dashboard/overview and /agents (API.md §8). */
export function createDashboardService(deps: DashboardServiceDeps) {
  const { db } = deps;

  return {
    async overview(query: OverviewQuery): Promise<Overview> {
      const range = resolveRange(query.range, query.window);
      const { hours, bucketMs } = RANGES[range];
      const nowMs = deps.clock.now();
      const since = new Date(nowMs - hours * 3_600_000);
      // Charts end with the bucket holding now; rows stamped later are not drawn.
      const chartEnd = new Date((Math.floor(nowMs / bucketMs) + 1) * bucketMs);
      const [kpis, capabilities, recent, byBoundary, perBucket] = await Promise.all([
        readKpis(db, since),
        capabilityUsage(db, since),
        recentSessions(db, since, RECENT_SESSIONS),
        sessionsByBoundary(db, since),
        sessionsPerBucket(db, since, chartEnd, bucketMs),
      ]);
      return {
        range,
        kpis: {
          agentsRegistered: kpis.agentsRegistered,
          handshakesTotal: kpis.handshakesTotal,
          handshakesInRange: kpis.handshakesInRange,
          handshakesSuccessInRange: kpis.handshakesSuccessInRange,
          capabilityInvocationsInRange: capabilities.total,
          activeSessions: kpis.activeSessions,
          pendingWebhookDeliveries: kpis.pendingWebhookDeliveries,
        },
        recentSessions: recent.map((s) => ({
          sessionId: s.sessionId,
          aidA: s.aidA,
          aidB: s.aidB,
          status: s.status,
          grants: s.grants,
          boundary: s.boundary,
          startedAt: toIso(s.startedAt),
          completedAt: toIso(s.completedAt),
          createdAt: toIso(s.createdAt),
        })),
        charts: {
          handshakesByBoundary: byBoundary,
          handshakesOverTime: zeroFilledBuckets(since.getTime(), nowMs, bucketMs, perBucket),
          topCapabilities: capabilities.top,
        },
      };
    },

    async agents(query: DashboardAgentsQuery) {
      const page = parsePage(query, { defaultLimit: 1000, maxLimit: 1000 });
      const rows = await listAgents(db, query.status, page);
      const pageRows = rows.slice(0, page.limit);
      const counts = pageRows.length === 0 ? undefined : await countsForAgents(db, pageRows.map((a) => a.aid));
      const items = rows.map((a) => ({
        aid: a.aid,
        displayName: a.displayName,
        status: a.status,
        registeredAt: toIso(a.registeredAt),
        lastSeenAt: toIso(a.lastSeenAt),
        handshakesAsInitiator: counts?.asInitiator.get(a.aid) ?? 0,
        handshakesAsResponder: counts?.asResponder.get(a.aid) ?? 0,
        capabilityInvocations: counts?.invocations.get(a.aid) ?? 0,
      }));
      return listEnvelope('agents', items, page);
    },
  };
}

export type DashboardService = ReturnType<typeof createDashboardService>;
