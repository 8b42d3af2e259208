import type { Database } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { aliased } from '../../lib/query-params.js';
import { parseTimestamp } from '../../lib/timestamps.js';
import { toEventView } from '../events/index.js';
import { countSessionTcts, sessionTctBatch, toTctRecord, type TctCursor } from '../tcts/index.js';
import { EXPORT_CAP, jsonExport, jsonlExport, keysetBatches, type ExportContent } from './export.js';
import { countSessionEvents, findSession, listSessions, sessionEventBatch, sessionEvents, type EventCursor } from './repository.js';
import type { ReplayQuery, SessionListQuery } from './schemas.js';
import { toSessionView } from './views.js';

export interface SessionServiceDeps {
  db: Pick<Database, 'select'>;
  clock: Clock;
}

/** Events shown with a session (API.md §4.2); the rest is read through replay. */
export const DETAIL_EVENT_CAP = 1000;

export type ExportFormat = 'json' | 'jsonl';

export interface SessionExport {
  truncated: boolean;
  chunks: AsyncIterable<string>;
}

/** since/until of replay: unparseable → 400 BAD_REQUEST naming the parameter (API.md §4.4). */
function timestampParam(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = parseTimestamp(value);
  if (parsed === undefined) throw badRequest(`${field} is not a timestamp`, field);
  return parsed;
}

/** GET /api/sessions and its sub-resources (API.md §4). */
export function createSessionService(deps: SessionServiceDeps) {
  const { db } = deps;

  const requireSession = async (sessionId: string) => {
    const row = await findSession(db, sessionId);
    if (row === undefined) throw notFound('session not found');
    return row;
  };

  return {
    async list(query: SessionListQuery) {
      const page = parsePage(query, { defaultLimit: 200, maxLimit: 1000 });
      const rows = await listSessions(db, { status: query.status, runId: aliased(query.run_id, query.runId), aid: query.aid }, page);
      return listEnvelope('sessions', rows.map(toSessionView), page);
    },

    async detail(sessionId: string) {
      const row = await requireSession(sessionId);
      const events = await sessionEvents(db, sessionId, {}, { limit: DETAIL_EVENT_CAP + 1, offset: 0 });
      return {
        session: toSessionView(row),
        events: events.slice(0, DETAIL_EVENT_CAP).map(toEventView),
        eventsTruncated: events.length > DETAIL_EVENT_CAP,
      };
    },

    /** Works without a session row: a well-formed id never answers 404 (API.md §4.4). */
    async replay(sessionId: string, query: ReplayQuery) {
      const range = { since: timestampParam(query.since, 'since'), until: timestampParam(query.until, 'until') };
      const page = parsePage(query, { defaultLimit: 1000, maxLimit: 10_000 });
      const rows = await sessionEvents(db, sessionId, range, { limit: page.limit + 1, offset: page.offset });
      return { sessionId, ...listEnvelope('events', rows.map(toEventView), page) };
    },

    /**
     * The session, its TCTs and its events, streamed in keyset batches (API.md §4.3). Whether a
     * cap cuts the export is known before the first byte, so it can go in a header.
     */
    async export(sessionId: string, format: ExportFormat): Promise<SessionExport> {
      const row = await requireSession(sessionId);
      const [tctCount, eventCount] = await Promise.all([
        countSessionTcts(db, sessionId, EXPORT_CAP + 1),
        countSessionEvents(db, sessionId, EXPORT_CAP + 1),
      ]);
      const content: ExportContent = {
        session: toSessionView(row),
        tcts: mapBatches(
          keysetBatches((after: TctCursor | undefined, n) => sessionTctBatch(db, sessionId, after, n), (r) => ({ issuedAtKey: r.issuedAtKey, jti: r.jti }), EXPORT_CAP),
          toTctRecord,
        ),
        events: mapBatches(
          keysetBatches((after: EventCursor | undefined, n) => sessionEventBatch(db, sessionId, after, n), (r) => ({ tsKey: r.tsKey, seq: r.seq }), EXPORT_CAP),
          toEventView,
        ),
        exportedAt: new Date(deps.clock.now()).toISOString(),
      };
      return {
        truncated: tctCount > EXPORT_CAP || eventCount > EXPORT_CAP,
        chunks: format === 'jsonl' ? jsonlExport(content) : jsonExport(content),
      };
    },
  };
}

async function* mapBatches<T, U>(batches: AsyncIterable<T[]>, map: (row: T) => U): AsyncGenerator<U[]> {
  for await (const batch of batches) yield batch.map(map);
}

export type SessionService = ReturnType<typeof createSessionService>;
