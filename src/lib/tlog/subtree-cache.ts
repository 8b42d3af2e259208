import { latin1Bytes } from './hash.js';

/**
 * A bounded least-recently-used memo of complete-subtree hashes, MTH(D[k·2^h : (k+1)·2^h]).
 * Such a hash never changes once the subtree is complete, so it stays valid while the log
 * grows; only a log whose stored tiles are replaced (a reset) needs a new cache. It spares the
 * rehashing inside tiles that dominates the cost of a proof (up to 247 hashes per tile level),
 * and a proof whose nodes are all cached reads no tile at all.
 */
export class SubtreeCache {
  // Each hash as a 32-character latin1 string: it lives in V8's heap, and a hash that is a slice
  // of a shared buffer (a digest, a tile) would keep the whole buffer alive.
  readonly #entries = new Map<string, string>();

  constructor(readonly maxEntries = 16_384) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  get(height: number, index: number): Uint8Array | undefined {
    const key = `${height}:${index}`;
    const hash = this.#entries.get(key);
    if (hash === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, hash);
    return latin1Bytes(hash);
  }

  set(height: number, index: number, hash: Uint8Array): void {
    this.#entries.set(`${height}:${index}`, Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1'));
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
