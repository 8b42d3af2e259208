import { flatText } from './json-text.js';
import type { VersionCache } from './version-cache.js';

/** A row's identity and the version it was read at. */
export interface Keyed {
  key: string;
  version: string;
}

/** How one list view reads a page (`limit + 1` rows, in page order) and renders a row as JSON. */
export interface PageReads<R> {
  /** Only the identity and version of each row of the page. */
  listKeys(): Promise<Keyed[]>;
  /** Whole rows for these keys, in any order. */
  fetchRows(keys: string[]): Promise<R[]>;
  /** The page's whole rows in one statement. */
  readPage(): Promise<R[]>;
  keyOf(row: R): Keyed;
  render(row: R): string;
}

export interface RenderedPage {
  items: string[];
  hasMore: boolean;
}

/**
 * Share of recently shown rows that were already rendered (an exponentially weighted average
 * over pages). Listing keys first pays only when most rows are hits: for a page of misses it
 * costs a second round trip and measured ~35 % slower than reading the page whole.
 */
export class HitRate {
  private rate = 1;

  record(hits: number, shown: number): void {
    if (shown > 0) this.rate = 0.8 * this.rate + 0.2 * (hits / shown);
  }

  get listKeysFirst(): boolean {
    return this.rate >= 0.5;
  }
}

/**
 * One page of rendered rows (src/lib/version-cache.ts). While most rows are hits, Postgres lists
 * only keys and versions and just the misses are read whole; otherwise the page is read whole in
 * one statement and only rows not yet rendered at their version are rendered. Either way every
 * row is served at the version Postgres reports now. A row that changed or went away between the
 * two reads of the first way sends the request to the second.
 */
export async function renderPage<R>(cache: VersionCache<string>, rate: HitRate, limit: number, reads: PageReads<R>): Promise<RenderedPage> {
  if (rate.listKeysFirst) {
    const listed = await reads.listKeys();
    const items = await fromListed(listed.slice(0, limit), cache, rate, reads);
    if (items !== undefined) return { items, hasMore: listed.length > limit };
  }
  const rows = await reads.readPage();
  const shown = rows.slice(0, limit);
  let hits = 0;
  const items = shown.map((row) => {
    const { key, version } = reads.keyOf(row);
    const cached = cache.get(key, version);
    if (cached !== undefined) {
      hits++;
      return cached;
    }
    return remember(cache, key, version, reads.render(row));
  });
  rate.record(hits, shown.length);
  return { items, hasMore: rows.length > limit };
}

async function fromListed<R>(shown: readonly Keyed[], cache: VersionCache<string>, rate: HitRate, reads: PageReads<R>): Promise<string[] | undefined> {
  const items: Array<string | undefined> = shown.map((row) => cache.get(row.key, row.version));
  const missing = shown.filter((_, i) => items[i] === undefined);
  rate.record(shown.length - missing.length, shown.length);
  if (missing.length === 0) return items as string[];
  const fetched = new Map<string, R>();
  for (const row of await reads.fetchRows(missing.map((m) => m.key))) fetched.set(reads.keyOf(row).key, row);
  for (let i = 0; i < shown.length; i++) {
    if (items[i] !== undefined) continue;
    const { key, version } = shown[i]!;
    const row = fetched.get(key);
    if (row === undefined || reads.keyOf(row).version !== version) return undefined;
    items[i] = remember(cache, key, version, reads.render(row));
  }
  return items as string[];
}

/** Rendered text is kept flat: V8 would otherwise walk its concatenation tree on every join. */
function remember(cache: VersionCache<string>, key: string, version: string, text: string): string {
  const flat = flatText(text);
  cache.set(key, version, flat);
  return flat;
}
