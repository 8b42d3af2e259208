import { Type, type TArray, type TSchema } from 'typebox';
import { badRequest } from './errors.js';

// Contract README §Pagination: one parser for every list.
const COUNT = Type.String({ pattern: '^[0-9]{1,9}$' });

/** Query members every list route accepts; spread into the route's query schema. */
export const PageQuerySchema = {
  limit: Type.Optional(COUNT),
  offset: Type.Optional(COUNT),
};

export interface PageLimits {
  defaultLimit: number;
  maxLimit: number;
}

export interface Page {
  limit: number;
  offset: number;
}

/** limit=0 is a 400; above the route max it is clamped (no error). */
export function parsePage(query: { limit?: string; offset?: string }, limits: PageLimits): Page {
  const limit = query.limit === undefined ? limits.defaultLimit : Number(query.limit);
  if (limit === 0) throw badRequest('limit must be at least 1', 'limit');
  return { limit: Math.min(limit, limits.maxLimit), offset: query.offset === undefined ? 0 : Number(query.offset) };
}

/**
 * Repositories fetch `limit + 1` rows; this cuts the extra one off and turns it into `hasMore`.
 * The envelope: `{ <key>: [...], count, limit, offset, hasMore }`.
 */
export function listEnvelope<K extends string, T>(key: K, rows: T[], page: Page): Record<K, T[]> & ListMeta {
  const items = rows.slice(0, page.limit);
  return { [key]: items, count: items.length, limit: page.limit, offset: page.offset, hasMore: rows.length > page.limit } as Record<K, T[]> &
    ListMeta;
}

export interface ListMeta {
  count: number;
  limit: number;
  offset: number;
  hasMore: boolean;
}

/** Response schema of a list envelope around `item`. */
export function ListSchema<K extends string, T extends TSchema>(key: K, item: T) {
  const collection = { [key]: Type.Array(item) } as { [P in K]: TArray<T> };
  return Type.Object({
    ...collection,
    count: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
    hasMore: Type.Boolean(),
  });
}

/**
 * listEnvelope as JSON text, for lists whose items are written straight to JSON (discovery,
 * history: src/db/raw-query.ts): the same envelope and key order, only the shown rows written.
 */
export function listEnvelopeJson<R>(key: string, rows: readonly R[], page: Page, write: (row: R) => string): string {
  const count = Math.min(rows.length, page.limit);
  const items: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) items[i] = write(rows[i]!);
  return envelopeJson(key, items, page, rows.length > page.limit);
}

/** The envelope around items already written as JSON (at most `page.limit` of them). */
export function envelopeJson(key: string, items: readonly string[], page: Page, hasMore: boolean): string {
  return `{${JSON.stringify(key)}:[${items.join(',')}],"count":${items.length},"limit":${page.limit},"offset":${page.offset},"hasMore":${hasMore}}`;
}
