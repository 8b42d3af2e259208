import type { handshakeSessions } from '../../db/schema/index.js';
import { toIso } from '../../lib/timestamps.js';
import type { Session } from './schemas.js';

export type SessionRow = typeof handshakeSessions.$inferSelect;

/** API.md §0.5 Session: every key, timestamps ISO with milliseconds. */
export function toSessionView(row: SessionRow): Session {
  return {
    sessionId: row.sessionId,
    aidA: row.aidA,
    aidB: row.aidB,
    status: row.status,
    grants: row.grants,
    runId: row.runId,
    boundary: row.boundary,
    error: row.error,
    startedAt: toIso(row.startedAt),
    completedAt: toIso(row.completedAt),
    createdAt: toIso(row.createdAt),
    updatedAt: toIso(row.updatedAt),
  };
}
