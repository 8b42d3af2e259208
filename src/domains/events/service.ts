import type { TextRow } from '../../db/raw-query.js';
import { withTxRetry } from '../../db/retry.js';
import { inTransaction, onPool, type TxDatabase, type TxPool } from '../../db/transaction.js';
import type { Clock } from '../../lib/clock.js';
import { filterInvalid } from '../../lib/errors.js';
import { envelopeJson, parsePage } from '../../lib/pagination.js';
import { aliased, commaList } from '../../lib/query-params.js';
import { parseTimestamp } from '../../lib/timestamps.js';
import { HitRate, renderPage } from '../../lib/rendered-page.js';
import { VersionCache } from '../../lib/version-cache.js';
import { findEventsBySeq, listHistory, listHistorySeqs, type HistoryFilter } from './history-repository.js';
import type { EventMetrics } from './metrics.js';
import { normalizeBatch } from './normalize.js';
import type { HistoryQuery, IngestResult } from './schemas.js';
import { withAliases, type EventPipeline } from './types.js';
import { eventJson } from './views.js';

export interface EventsServiceDeps {
  db: TxDatabase;
  /** The pool behind `db`: transactions, the one-statement insert, the raw history read. */
  pool: Parameters<typeof listHistory>[0] & TxPool;
  clock: Clock;
  pipeline: EventPipeline;
  metrics: EventMetrics;
}

const HISTORY_PAGE = { defaultLimit: 100, maxLimit: 1000 };
const MAX_TYPE_FILTERS = 20;
/** Rendered events kept (~0.4 KB each): at most ten pages of the largest size, and at least five stay warm (the cache drops its older half at a time). */
const RENDERED_EVENTS = 10_000;
const RENDERED_TTL_MS = 10 * 60_000;
/** A stored event never changes (only retention deletes it): its seq is its only version. */
const STORED = '';

export function createEventsService(deps: EventsServiceDeps) {
  const rendered = new VersionCache<string>(RENDERED_EVENTS, RENDERED_TTL_MS);
  const hitRate = new HitRate();
  const keyOf = (row: TextRow) => ({ key: row['seq']!, version: STORED });
  const withoutTransaction = onPool(deps.pool, deps.db);

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
        const persist = deps.pipeline.needsTransaction(events)
          ? () => inTransaction(deps.pool, (tx) => deps.pipeline.persist(tx, events))
          : () => deps.pipeline.persist(withoutTransaction, events);
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
      const { items, hasMore } = await renderPage(rendered, hitRate, page.limit, {
        listKeys: async () => (await listHistorySeqs(deps.pool, filter, page)).map((key) => ({ key, version: STORED })),
        fetchRows: (seqs) => findEventsBySeq(deps.pool, seqs),
        readPage: () => listHistory(deps.pool, filter, page),
        keyOf,
        render: eventJson,
      });
      return envelopeJson('events', items, page, hasMore);
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
