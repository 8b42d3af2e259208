/**
 * Rendered rows (JSON fragments) remembered by row identity and row version, so a hot list read
 * asks Postgres only which rows are on the page and at which version, and renders just the rows it
 * has not seen at that version. A fragment is served only for the exact version it was rendered
 * from, so nothing stale can be served: a changed row has a new version and misses.
 *
 * Bounded: at `max` entries the oldest insertion is dropped. Entries also expire after `ttlMs`,
 * which bounds how long a version string is trusted (an `xmin` repeats only after 2^32
 * transactions, far beyond any ttl).
 */
export class VersionCache<V> {
  private readonly entries = new Map<string, { version: string; value: V; at: number }>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, version: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.version !== version) return undefined;
    if (this.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, version: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { version, value, at: this.now() });
  }
}

/** One listed row: its identity and the version the listing saw. */
export interface Listed {
  key: string;
  version: string;
}

/** A row fetched for rendering, with the version it was read at. */
export interface Fetched<V> extends Listed {
  value: V;
}

/**
 * The rendered values of `listed`, in order: cached ones as they are, the others fetched in one
 * call and remembered. Undefined when a fetched row is missing or at another version than listed
 * (it changed or went away between the two reads): the caller then answers with its
 * one-statement read, so a page never mixes two versions of the data.
 */
export async function renderListed<V>(
  listed: readonly Listed[],
  cache: VersionCache<V>,
  fetch: (keys: string[]) => Promise<Array<Fetched<V>>>,
): Promise<V[] | undefined> {
  const values: Array<V | undefined> = listed.map((row) => cache.get(row.key, row.version));
  const missing = listed.filter((_, i) => values[i] === undefined);
  if (missing.length === 0) return values as V[];
  const fetched = new Map((await fetch(missing.map((row) => row.key))).map((row) => [row.key, row]));
  for (let i = 0; i < listed.length; i++) {
    if (values[i] !== undefined) continue;
    const { key, version } = listed[i]!;
    const row = fetched.get(key);
    if (row === undefined || row.version !== version) return undefined;
    cache.set(key, version, row.value);
    values[i] = row.value;
  }
  return values as V[];
}
