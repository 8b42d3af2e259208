import { sql } from 'drizzle-orm';
import { truncateCodePoints } from '../../lib/code-points.js';
import type { StoredEvent } from '../events/index.js';
import { asObject, fitsIn } from './claims.js';
import type { Executor, ProjectionTally } from './tally.js';
import { toIso } from '../../lib/timestamps.js';

const MAX_BOUNDARY = 32;
const MAX_ERROR = 4096;

type SessionStatus = 'started' | 'complete' | 'failed';

const STATUS_OF: Record<string, SessionStatus> = {
  'handshake.started': 'started',
  'handshake.complete': 'complete',
  'handshake.failed': 'failed',
};

interface SessionRow {
  sessionId: string;
  aidA: string | null;
  aidB: string | null;
  status: SessionStatus;
  grants: string;
  runId: string | null;
  boundary: string | null;
  error: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

/** The row an event proposes (EVENTS.md §4.2 "inserted/changed values"); undefined without a session. */
function sessionRowOf(event: StoredEvent, type: string, tally: ProjectionTally): SessionRow | undefined {
  const status = STATUS_OF[type];
  if (status === undefined || event.sessionId === null) return undefined;
  const payload = asObject(event.payload);
  const rawError = payload?.['error'];
  const ts = toIso(event.ts);
  return {
    sessionId: event.sessionId,
    aidA: event.aidA,
    aidB: event.aidB,
    status,
    grants: status === 'complete' ? JSON.stringify(event.grants ?? []) : '[]',
    runId: event.runId,
    boundary: boundaryOf(payload?.['boundary'], tally),
    error: status === 'failed' && typeof rawError === 'string' ? truncateCodePoints(rawError, MAX_ERROR) : null,
    startedAt: status === 'started' ? ts : null,
    completedAt: status === 'started' ? null : ts,
  };
}

/**
 * Session projection (EVENTS.md §4.2) for events of pairwise distinct sessions, as one upsert
 * (the caller splits a batch into such groups, in batch order, so the outcome is that of
 * applying the events one by one). Status is monotonic: only a `started` row moves, to the first
 * terminal event that arrives; terminal rows are never reopened. Otherwise an event only fills
 * columns that are still null, and a row is touched (updated_at) only when something changes.
 */
export async function projectSessions(
  tx: Executor,
  events: ReadonlyArray<{ event: StoredEvent; type: string }>,
  tally: ProjectionTally,
): Promise<void> {
  const rows = events.flatMap(({ event, type }) => sessionRowOf(event, type, tally) ?? []);
  if (rows.length === 0) return;
  const col = <T>(pick: (row: SessionRow) => T) => sql.param(rows.map(pick));
  const result = await tx.execute<{ inserted: boolean }>(sql`
    INSERT INTO handshake_sessions AS s
      (session_id, aid_a, aid_b, status, grants, run_id, boundary, error, started_at, completed_at)
    SELECT * FROM unnest(
      ${col((r) => r.sessionId)}::varchar[], ${col((r) => r.aidA)}::varchar[], ${col((r) => r.aidB)}::varchar[],
      ${col((r) => r.status)}::varchar[], ${col((r) => r.grants)}::jsonb[], ${col((r) => r.runId)}::varchar[],
      ${col((r) => r.boundary)}::varchar[], ${col((r) => r.error)}::text[], ${col((r) => r.startedAt)}::timestamptz[],
      ${col((r) => r.completedAt)}::timestamptz[]
    )
    ON CONFLICT (session_id) DO UPDATE SET
      status = CASE WHEN s.status = 'started' AND EXCLUDED.status <> 'started' THEN EXCLUDED.status ELSE s.status END,
      completed_at = CASE WHEN s.status = 'started' AND EXCLUDED.status <> 'started' THEN EXCLUDED.completed_at ELSE s.completed_at END,
      grants = CASE WHEN s.status = 'started' AND EXCLUDED.status = 'complete' THEN EXCLUDED.grants ELSE s.grants END,
      error = CASE WHEN s.status = 'started' AND EXCLUDED.status = 'failed' THEN EXCLUDED.error ELSE s.error END,
      aid_a = coalesce(s.aid_a, EXCLUDED.aid_a),
      aid_b = coalesce(s.aid_b, EXCLUDED.aid_b),
      run_id = coalesce(s.run_id, EXCLUDED.run_id),
      boundary = coalesce(s.boundary, EXCLUDED.boundary),
      started_at = coalesce(s.started_at, EXCLUDED.started_at),
      updated_at = now()
    WHERE (s.status = 'started' AND EXCLUDED.status <> 'started')
      OR (s.aid_a IS NULL AND EXCLUDED.aid_a IS NOT NULL)
      OR (s.aid_b IS NULL AND EXCLUDED.aid_b IS NOT NULL)
      OR (s.run_id IS NULL AND EXCLUDED.run_id IS NOT NULL)
      OR (s.boundary IS NULL AND EXCLUDED.boundary IS NOT NULL)
      OR (s.started_at IS NULL AND EXCLUDED.started_at IS NOT NULL)
    RETURNING (xmax = 0) AS inserted`);
  for (const row of result.rows) if (row.inserted === true) tally.sessionsCreated++;
}

/** `payload.boundary` if a string of at most 32 code points; a longer one is stored as null and counted. */
function boundaryOf(value: unknown, tally: ProjectionTally): string | null {
  if (typeof value !== 'string') return null;
  if (fitsIn(value, MAX_BOUNDARY)) return value;
  tally.skipped.session++;
  return null;
}
