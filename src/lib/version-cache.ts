/**
 * Rendered rows (JSON fragments) remembered by row identity and row version, so a hot list read
 * asks Postgres only which rows are on the page and at which version, and renders just the rows it
 * has not seen at that version. A fragment is served only for the exact version it was rendered
 * from, so nothing stale can be served: a changed row has a new version and misses.
 *
 * Bounded with two generations: entries go into the young map; when it holds half of `max`, it
 * becomes the old map and the previous old map is dropped whole. A hit in the old map moves the
 * entry to the young one, so rows still in use survive. (Evicting one entry at a time from the
 * front of a Map walks over every deleted slot before it: quadratic under a steady stream of
 * misses.) Entries also expire after `ttlMs`, which bounds how long a version string is trusted
 * (an `xmin` repeats only after 2^32 transactions, far beyond any ttl).
 */
export class VersionCache<V> {
  private young = new Map<string, Entry<V>>();
  private old = new Map<string, Entry<V>>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: string, version: string): V | undefined {
    let entry = this.young.get(key);
    if (entry === undefined) {
      entry = this.old.get(key);
      if (entry === undefined) return undefined;
      this.old.delete(key);
      this.store(key, entry);
    }
    if (entry.version !== version) return undefined;
    if (this.now() - entry.at > this.ttlMs) {
      this.young.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, version: string, value: V): void {
    this.old.delete(key);
    this.store(key, { version, value, at: this.now() });
  }

  private store(key: string, entry: Entry<V>): void {
    this.young.set(key, entry);
    if (this.young.size >= this.max / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}

interface Entry<V> {
  version: string;
  value: V;
  at: number;
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
