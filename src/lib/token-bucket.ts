import { hash } from 'node:crypto';

/** One kind of bucket (OPERATIONS.md §8): `capacity` tokens, refilled in full over `windowMs`. */
export interface BucketSpec {
  readonly name: string;
  /** ≥ 1; a bucket with capacity 0 is disabled and never reaches the limiter. */
  readonly capacity: number;
  readonly windowMs: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after this request (0 when denied): `X-RateLimit-Remaining`. */
  remaining: number;
  /** Epoch seconds (ceil) when the bucket is full again: `X-RateLimit-Reset`. */
  resetEpochSecs: number;
  /** Denied only: max(1, ceil(seconds until one token)); 0 when allowed. */
  retryAfterSecs: number;
}

/**
 * Bucket state in integer units so refill is exact: `debt` = (capacity − tokens) × windowMs.
 * Refill lowers it by `capacity` per ms, a token raises it by `windowMs`, and tokens ≥ 1 ⇔
 * debt ≤ (capacity − 1) × windowMs. With integer clocks no float drift ever lets an extra
 * request through or holds one back. Each state is also a node of the LRU list.
 */
interface BucketState {
  /** The map key (an owned copy), needed to delete the entry when it is evicted. */
  readonly key: string;
  readonly spec: BucketSpec;
  debt: number;
  /** Last refill, epoch ms. */
  at: number;
  /** Toward the least recently used end. */
  older: BucketState | undefined;
  /** Toward the most recently used end. */
  newer: BucketState | undefined;
}

/** First 16 bytes of sha256(`<bucket>|<raw key>`): no raw IP or API key is kept (§8). */
export function bucketKey(bucket: string, rawKey: string): string {
  // The one-shot 'binary' digest is ~3x cheaper than a Buffer one; its slice is a view.
  return hash('sha256', `${bucket}|${rawKey}`, 'binary').slice(0, 16);
}

/** A standalone copy of a sliced key, so a stored key does not pin its 32-byte parent digest. */
function ownedCopy(key: string): string {
  return Buffer.from(key, 'latin1').toString('latin1');
}

function refill(state: BucketState, now: number): void {
  const elapsed = now - state.at;
  // A clock that steps back refills nothing (and keeps the later timestamp).
  if (elapsed <= 0) return;
  const { capacity, windowMs } = state.spec;
  state.debt = elapsed >= windowMs ? 0 : Math.max(0, state.debt - elapsed * capacity);
  state.at = now;
}

function isFull(state: BucketState, now: number): boolean {
  const elapsed = Math.max(0, now - state.at);
  return elapsed >= state.spec.windowMs || state.debt <= elapsed * state.spec.capacity;
}

/** ceil((now + debt / capacity) / 1000) without float error on ms boundaries (now is integer ms). */
function resetEpochSecs(now: number, debt: number, capacity: number): number {
  const wholeMs = Math.floor(debt / capacity);
  const fullAtMs = now + wholeMs;
  return debt - wholeMs * capacity > 0 ? Math.floor(fullAtMs / 1000) + 1 : Math.ceil(fullAtMs / 1000);
}

/**
 * Honest token buckets in memory (OPERATIONS.md §8): continuous refill capped at capacity, new
 * buckets start full, at most `maxKeys` buckets with the least recently used evicted. The map
 * finds a bucket; a doubly linked list through the buckets keeps recency, so a touch is a few
 * pointer writes and never mutates the map (delete + set on a large Map makes V8 rehash it).
 * Time is passed in, so tests drive it with a fake clock.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, BucketState>();
  /** Least recently used end of the list (evicted first). */
  private oldest: BucketState | undefined;
  /** Most recently used end of the list. */
  private newest: BucketState | undefined;
  private evicted = 0;
  /** Next bucket a sweep pass in progress visits. */
  private cursor: BucketState | undefined;
  private sweeping = false;

  constructor(readonly maxKeys: number) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
  }

  /** Buckets in memory (`rate_limit_tracked_keys`). */
  get size(): number {
    return this.buckets.size;
  }

  /** LRU evictions so far (`rate_limit_evictions_total`). */
  get evictions(): number {
    return this.evicted;
  }

  /** Charges one token to (spec, rawKey) at `now` (epoch ms) if one is there. */
  take(spec: BucketSpec, rawKey: string, now: number): TakeResult {
    const key = bucketKey(spec.name, rawKey);
    let state = this.buckets.get(key);
    if (state === undefined) {
      if (this.buckets.size >= this.maxKeys && this.oldest !== undefined) {
        this.remove(this.oldest);
        this.evicted++;
      }
      state = { key: ownedCopy(key), spec, debt: 0, at: now, older: undefined, newer: undefined };
      this.buckets.set(state.key, state);
    } else {
      this.unlink(state);
      refill(state, now);
    }
    this.append(state);
    return charge(state, now);
  }

  /** A whole sweep pass at once, from the oldest bucket: drops those refilled to capacity. */
  sweep(now: number): number {
    this.sweeping = false;
    return this.sweepSlice(now, Infinity).dropped;
  }

  /**
   * One slice of a sweep pass: visits up to `budget` buckets, oldest first, from where the last
   * slice stopped, and drops those refilled to capacity (they would start full anyway). Slices
   * let a job sweep millions of buckets without stalling the event loop; buckets touched between
   * slices stay consistent because a touch moves the cursor off the bucket it moves.
   */
  sweepSlice(now: number, budget: number): { dropped: number; done: boolean } {
    if (!this.sweeping) {
      this.sweeping = true;
      this.cursor = this.oldest;
    }
    let dropped = 0;
    for (let visited = 0; this.cursor !== undefined && visited < budget; visited++) {
      const state = this.cursor;
      this.cursor = state.newer;
      if (!isFull(state, now)) continue;
      this.remove(state);
      dropped++;
    }
    if (this.cursor === undefined) this.sweeping = false;
    return { dropped, done: !this.sweeping };
  }

  private remove(state: BucketState): void {
    this.unlink(state);
    this.buckets.delete(state.key);
  }

  private unlink(state: BucketState): void {
    if (state === this.cursor) this.cursor = state.newer;
    if (state.older === undefined) this.oldest = state.newer;
    else state.older.newer = state.newer;
    if (state.newer === undefined) this.newest = state.older;
    else state.newer.older = state.older;
    state.older = undefined;
    state.newer = undefined;
  }

  private append(state: BucketState): void {
    state.older = this.newest;
    if (this.newest === undefined) this.oldest = state;
    else this.newest.newer = state;
    this.newest = state;
  }
}

function charge(state: BucketState, now: number): TakeResult {
  const { capacity, windowMs } = state.spec;
  const limit = (capacity - 1) * windowMs;
  const allowed = state.debt <= limit;
  if (allowed) state.debt += windowMs;
  const remaining = capacity - Math.ceil(state.debt / windowMs);
  const retryAfterSecs = allowed ? 0 : Math.max(1, Math.ceil((state.debt - limit) / (capacity * 1000)));
  return { allowed, remaining, resetEpochSecs: resetEpochSecs(now, state.debt, capacity), retryAfterSecs };
}
