import type { Database } from '../../db/client.js';
import { withTxRetry } from '../../db/retry.js';
import type { Clock } from '../../lib/clock.js';
import { filterInvalid } from '../../lib/errors.js';
import { flatText } from '../../lib/json-text.js';
import { envelopeJson, listEnvelopeJson, parsePage } from '../../lib/pagination.js';
import { aliased, commaList } from '../../lib/query.js';
import { parseTimestamp } from '../../lib/timestamps.js';
import { renderListed, VersionCache } from '../../lib/version-cache.js';
import { findEventsBySeq, listHistory, listHistorySeqs, type HistoryFilter } from './history-repository.js';
import type { EventMetrics } from './metrics.js';
import { normalizeBatch } from './normalize.js';
import { needsTransaction, type PersistExecutor } from './pipeline.js';
import type { HistoryQuery, IngestResult } from './schemas.js';
import { withAliases, type NewEvent, type StoredEvent } from './types.js';
import { eventJson } from './views.js';

/** persistEvents bound to the logger and metrics; `committed()` applies the counts after commit. */
export interface EventPipeline {
  persist(tx: PersistExecutor, events: readonly NewEvent[]): Promise<{ stored: StoredEvent[]; committed(): void }>;
}

export interface EventsServiceDeps {
  db: Pick<Database, 'transaction' | 'execute' | '_'>;
  /** The pool behind `db`, for the raw history read. */
  pool: Parameters<typeof listHistory>[0];
  clock: Clock;
  pipeline: EventPipeline;
  metrics: EventMetrics;
}

const HISTORY_PAGE = { defaultLimit: 100, maxLimit: 1000 };
const MAX_TYPE_FILTERS = 20;
/** Rendered events kept (~0.4 KB each): ten full pages of the largest size. */
const RENDERED_EVENTS = 10_000;
const RENDERED_TTL_MS = 10 * 60_000;
/** A stored event never changes (only retention deletes it): its seq is its only version. */
const STORED = '';

export function createEventsService(deps: EventsServiceDeps) {
  const rendered = new VersionCache<string>(RENDERED_EVENTS, RENDERED_TTL_MS);
  const renderBySeq = async (seqs: string[]) =>
    (await findEventsBySeq(deps.pool, seqs)).map((row) => ({ key: row['seq']!, version: STORED, value: flatText(eventJson(row)) }));

  return {
    /**
     * POST /api/events (API.md §3.1): every entry normalized and checked first (nothing is written
     * when one fails), then stored atomically, again on deadlock or serialization failure. A batch
     * that feeds no projection and no webhook is one statement, atomic without a transaction.
     */
    async ingest(body: unknown, producer: string): Promise<IngestResult> {
      const batch = normalizeBatch(body, producer, deps.clock.now());
      let inserted = 0;
      if (batch.events.length > 0) {
        const { events } = batch;
        const persist = needsTransaction(events)
          ? () => deps.db.transaction((tx) => deps.pipeline.persist(tx, events))
          : () => deps.pipeline.persist(deps.db, events);
        const result = await withTxRetry(persist);
        result.committed();
        inserted = result.stored.length;
      }
      const duplicates = batch.received - inserted;
      if (duplicates > 0) deps.metrics.duplicates.inc(duplicates);
      deps.metrics.batches.inc({ outcome: 'ok' });
      return { ingested: batch.received, inserted, duplicates };
    },

    /** GET /api/events/history (API.md §3.2), as JSON text. */
    async history(query: HistoryQuery): Promise<string> {
      const page = parsePage(query, HISTORY_PAGE);
      const filter = historyFilter(query);
      // Postgres walks the index for the page's seqs; only events not rendered yet are read whole.
      const seqs = await listHistorySeqs(deps.pool, filter, page);
      const shown = seqs.slice(0, page.limit).map((key) => ({ key, version: STORED }));
      const items = await renderListed(shown, rendered, renderBySeq);
      if (items !== undefined) return envelopeJson('events', items, page, seqs.length > page.limit);
      // An event of the page was deleted (retention) between the two reads: one consistent read.
      return listEnvelopeJson('events', await listHistory(deps.pool, filter, page), page, eventJson);
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;

/** Query → filter; an empty `type` list means no type filter. */
export function historyFilter(query: HistoryQuery): HistoryFilter {
  const types = commaList(query.type, 'type', MAX_TYPE_FILTERS);
  return {
    types: types === undefined || types.length === 0 ? undefined : withAliases(types),
    aid: query.aid,
    sessionId: aliased(query.session_id, query.sessionId),
    runId: aliased(query.run_id, query.runId),
    since: bound(query.since, 'since'),
    until: bound(query.until, 'until'),
  };
}

function bound(value: string | undefined, field: 'since' | 'until'): Date | undefined {
  if (value === undefined) return undefined;
  const date = parseTimestamp(value);
  if (date === undefined) throw filterInvalid(`${field} is not a timestamp`, field);
  return date;
}
