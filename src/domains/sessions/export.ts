import type { EventView } from '../events/index.js';
import type { TctRecord } from '../tcts/index.js';
import type { Session } from './schemas.js';

/** Per-kind cap of a session export (API.md §4.3). */
export const EXPORT_CAP = 10_000;

/** Rows per query while streaming: memory stays bounded whatever the session holds. */
export const EXPORT_BATCH = 500;

/**
 * Rows in keyset order, `batch` per query, at most `cap` in all. Each query starts after the
 * last row of the previous one (never OFFSET), so every batch costs one index range scan.
 */
export async function* keysetBatches<T, C>(
  fetch: (after: C | undefined, limit: number) => Promise<T[]>,
  cursorOf: (row: T) => C,
  cap: number,
  batch = EXPORT_BATCH,
): AsyncGenerator<T[]> {
  let after: C | undefined;
  for (let left = cap; left > 0; ) {
    const wanted = Math.min(batch, left);
    const rows = await fetch(after, wanted);
    const last = rows[rows.length - 1];
    if (last === undefined) return;
    yield rows;
    if (rows.length < wanted) return;
    left -= rows.length;
    after = cursorOf(last);
  }
}

export interface ExportContent {
  session: Session;
  tcts: AsyncIterable<TctRecord[]>;
  events: AsyncIterable<EventView[]>;
  exportedAt: string;
}

async function* commaJoined(batches: AsyncIterable<unknown[]>): AsyncGenerator<string> {
  let first = true;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    yield (first ? '' : ',') + batch.map((item) => JSON.stringify(item)).join(',');
    first = false;
  }
}

/** `{session, tcts, events, exportedAt}` written piece by piece (API.md §4.3). */
export async function* jsonExport(content: ExportContent): AsyncGenerator<string> {
  yield `{"session":${JSON.stringify(content.session)},"tcts":[`;
  yield* commaJoined(content.tcts);
  yield '],"events":[';
  yield* commaJoined(content.events);
  yield `],"exportedAt":${JSON.stringify(content.exportedAt)}}`;
}

const line = (kind: string, record: unknown): string => `${JSON.stringify({ kind, record })}\n`;

/** One `{"kind","record"}` line per item, kinds in the order session, tct, event (API.md §2.8, §4.3). */
export async function* jsonlExport(content: ExportContent): AsyncGenerator<string> {
  yield line('session', content.session);
  for await (const batch of content.tcts) if (batch.length > 0) yield batch.map((r) => line('tct', r)).join('');
  for await (const batch of content.events) if (batch.length > 0) yield batch.map((r) => line('event', r)).join('');
}
