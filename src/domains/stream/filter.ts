import { normalizedType } from '../events/index.js';

/** Stream filters (EVENTS.md §6.4): ANDed; the same predicate serves the backlog SQL and live matching. */
export interface StreamFilter {
  /** Alias-normalized types; undefined = every type. */
  types?: ReadonlySet<string>;
  aid?: string;
  runId?: string;
  sessionId?: string;
}

/** The fields of an event a filter looks at. */
export interface Matchable {
  type: string;
  aidA: string | null;
  aidB: string | null;
  runId: string | null;
  sessionId: string | null;
}

export function matches(filter: StreamFilter, event: Matchable): boolean {
  if (filter.types !== undefined && !filter.types.has(normalizedType(event.type))) return false;
  if (filter.aid !== undefined && event.aidA !== filter.aid && event.aidB !== filter.aid) return false;
  if (filter.runId !== undefined && event.runId !== filter.runId) return false;
  if (filter.sessionId !== undefined && event.sessionId !== filter.sessionId) return false;
  return true;
}
