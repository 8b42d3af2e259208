import { HASH_SIZE } from './hash.js';
import { TILE_WIDTH, tilePath, type TileKey } from './tile-path.js';
import { withInterior, type TileReader } from './tiles.js';

/**
 * A byte-bounded least-recently-used cache of tile contents in front of a TileReader. A tile of
 * a given width never changes (tlog-tiles: `L/N.p/W` names fixed content, and a full tile is
 * final), so an entry stays valid while the log grows; only a log whose stored tiles are
 * replaced (a reset) needs a new cache. Proofs for random leaves otherwise read their leaf tile
 * from the database every time. A full tile is kept with its 254 interior nodes, hashed once on
 * the miss that loads it, so proofs that hit it read those nodes instead of rehashing up to 247
 * of them.
 */
export class TileCache {
  readonly #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError('maxBytes must be a non-negative integer');
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A reader that answers cached tiles itself and asks `read` for the rest, in one call. */
  reader(read: TileReader): TileReader {
    return async (keys) => {
      const found = keys.map((key) => this.#get(tilePath(key)));
      const missing = keys.filter((_, i) => found[i] === undefined);
      if (missing.length === 0) return found as Uint8Array[];
      const fetched = await read(missing);
      let next = 0;
      return keys.map((key, i) => {
        const cached = found[i];
        if (cached !== undefined) return cached;
        const data = fetched[next++];
        return data === undefined ? new Uint8Array(0) : this.#keep(key, data);
      });
    };
  }

  #get(path: string): Uint8Array | undefined {
    const data = this.#entries.get(path);
    if (data !== undefined) {
      this.#entries.delete(path);
      this.#entries.set(path, data);
    }
    return data;
  }

  /** Keeps exactly the tile's own hashes (a stored row may have grown past the width asked), a full tile with its interior. */
  #keep(key: TileKey, data: Uint8Array): Uint8Array {
    const own = key.width * HASH_SIZE;
    // A short answer is the caller's error to report.
    if (data.length < own) return data;
    const copy = key.width === TILE_WIDTH ? withInterior(data.subarray(0, own)) : data.slice(0, own);
    const path = tilePath(key);
    const before = this.#entries.get(path);
    if (before !== undefined) this.#bytes -= before.length;
    this.#entries.set(path, copy);
    this.#bytes += copy.length;
    while (this.#bytes > this.maxBytes) {
      const oldest = this.#entries.entries().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest[0]);
      this.#bytes -= oldest[1].length;
    }
    return copy;
  }
}
