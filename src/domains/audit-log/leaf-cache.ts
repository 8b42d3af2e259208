import { latin1Bytes } from '../../lib/tlog/index.js';

/**
 * Leaf hashes of events this process stored, computed at commit from the event in memory and
 * kept until the integrator takes them: it then reads only each row's position instead of
 * reading back and re-parsing the whole record. Bounded, oldest dropped first: a replica that
 * never runs the integrator keeps at most `capacity`, and a hash that is gone is recomputed from
 * the row.
 */
export class LeafHashCache {
  // Each hash as the 32-character latin1 string the digest returns (hashLeafTextLatin1): it lives
  // in V8's heap, where a Buffer per hash would be one small allocation outside it, held for a
  // second or two under full ingest.
  readonly #hashes = new Map<string, string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.#hashes.size;
  }

  remember(id: string, latin1Hash: string): void {
    this.#hashes.delete(id);
    this.#hashes.set(id, latin1Hash);
    if (this.#hashes.size > this.capacity) {
      const oldest = this.#hashes.keys().next().value;
      if (oldest !== undefined) this.#hashes.delete(oldest);
    }
  }

  /** The hash remembered for `id`, forgetting it. */
  take(id: string): Uint8Array | undefined {
    const hash = this.#hashes.get(id);
    if (hash === undefined) return undefined;
    this.#hashes.delete(id);
    return latin1Bytes(hash);
  }
}
