/**
 * Leaf hashes of events this process stored, computed at commit from the event in memory and
 * kept until the integrator takes them: it then reads only each row's position instead of
 * reading back and re-parsing the whole record. Bounded, oldest dropped first: a replica that
 * never runs the integrator keeps at most `capacity`, and a hash that is gone is recomputed from
 * the row.
 */
export class LeafHashCache {
  readonly #hashes = new Map<string, Uint8Array>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.#hashes.size;
  }

  remember(id: string, hash: Uint8Array): void {
    this.#hashes.delete(id);
    this.#hashes.set(id, hash);
    if (this.#hashes.size > this.capacity) {
      const oldest = this.#hashes.keys().next().value;
      if (oldest !== undefined) this.#hashes.delete(oldest);
    }
  }

  /** The hash remembered for `id`, forgetting it. */
  take(id: string): Uint8Array | undefined {
    const hash = this.#hashes.get(id);
    if (hash !== undefined) this.#hashes.delete(id);
    return hash;
  }
}
