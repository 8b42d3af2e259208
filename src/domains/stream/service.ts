import { isUuid } from '../../aitp/index.js';
import type { Database } from '../../db/client.js';
import type { StreamFilter } from './filter.js';
import { newestRows, rowsAfter, seqOf, type StreamRow } from './repository.js';

type Executor = Pick<Database, 'execute'>;

export type GapReason = 'backlog_exceeded' | 'unknown_last_event_id';

export interface Backlog {
  rows: StreamRow[];
  gap?: GapReason;
}

/**
 * What a new stream gets before live events (EVENTS.md §6.3): the newest `backlog` matches; or,
 * resuming, the matches after the resume id (at most `max`, else a gap and the newest `max`);
 * an unknown or malformed resume id gets a gap and the plain backlog.
 */
export async function loadBacklog(db: Executor, filter: StreamFilter, backlog: number, resumeId: string | undefined, max: number): Promise<Backlog> {
  if (resumeId === undefined) return { rows: await newestRows(db, filter, backlog) };
  const seq = isUuid(resumeId) ? await seqOf(db, resumeId.toLowerCase()) : undefined;
  if (seq === undefined) return { rows: await newestRows(db, filter, backlog), gap: 'unknown_last_event_id' };
  const after = await rowsAfter(db, filter, seq, max + 1);
  if (after.length > max) return { rows: await newestRows(db, filter, max), gap: 'backlog_exceeded' };
  return { rows: after };
}
