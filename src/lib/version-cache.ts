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
