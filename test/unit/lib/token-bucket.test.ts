import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter, bucketKey, type BucketSpec } from '../../../src/lib/token-bucket.js';

const T0 = 1_700_000_000_000; // a whole second, so reset arithmetic is easy to read
const enroll: BucketSpec = { name: 'enroll-ip', capacity: 5, windowMs: 60_000 };

function drain(limiter: TokenBucketLimiter, spec: BucketSpec, key: string, now: number, count: number) {
  return Array.from({ length: count }, () => limiter.take(spec, key, now));
}

describe('token bucket: allow and deny', () => {
  it.each([
    { capacity: 1, windowMs: 1_000 },
    { capacity: 3, windowMs: 60_000 },
    { capacity: 5, windowMs: 60_000 },
    { capacity: 7, windowMs: 60_000 },
    { capacity: 600, windowMs: 60_000 },
  ])('a new bucket is full: $capacity pass at once, the next is denied ($capacity per $windowMs ms)', (shape) => {
    const spec = { name: 'public-ip', ...shape };
    const limiter = new TokenBucketLimiter(1000);
    const results = drain(limiter, spec, '192.0.2.1', T0, shape.capacity + 1);
    expect(results.slice(0, -1).every((r) => r.allowed)).toBe(true);
    expect(results.map((r) => r.remaining)).toEqual([...Array.from({ length: shape.capacity }, (_, i) => shape.capacity - 1 - i), 0]);
    expect(results.at(-1)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('§8 example: enroll 5/min, five instant requests pass, the sixth gets Retry-After 12', () => {
    const limiter = new TokenBucketLimiter(1000);
    const results = drain(limiter, enroll, '198.51.100.7', T0, 6);
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    expect(results[5]).toEqual({ allowed: false, remaining: 0, resetEpochSecs: T0 / 1000 + 60, retryAfterSecs: 12 });
  });

  it('refill restores exactly the refilled amount: after 12 s one more request passes, not two', () => {
    const limiter = new TokenBucketLimiter(1000);
    drain(limiter, enroll, 'k', T0, 5);
    expect(limiter.take(enroll, 'k', T0 + 11_999)).toMatchObject({ allowed: false, retryAfterSecs: 1 });
    expect(limiter.take(enroll, 'k', T0 + 12_000)).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.take(enroll, 'k', T0 + 12_000)).toMatchObject({ allowed: false, retryAfterSecs: 12 });
    // 30 s later 2.5 tokens came back: two pass, the third waits for the half token (6 s).
    const later = drain(limiter, enroll, 'k', T0 + 42_000, 3);
    expect(later.map((r) => [r.allowed, r.remaining])).toEqual([[true, 1], [true, 0], [false, 0]]);
    expect(later[2]!.retryAfterSecs).toBe(6);
  });

  it('a denied request takes nothing: hammering an empty bucket does not push the refill back', () => {
    const limiter = new TokenBucketLimiter(1000);
    drain(limiter, enroll, 'k', T0, 5);
    for (let ms = 0; ms < 12_000; ms += 500) expect(limiter.take(enroll, 'k', T0 + ms).allowed).toBe(false);
    expect(limiter.take(enroll, 'k', T0 + 12_000).allowed).toBe(true);
  });

  it('refill is capped at capacity however long the bucket was idle', () => {
    const limiter = new TokenBucketLimiter(1000);
    drain(limiter, enroll, 'k', T0, 5);
    const results = drain(limiter, enroll, 'k', T0 + 86_400_000, 6);
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
  });

  it('refill is continuous, with no float drift at non-integer rates (7 per minute)', () => {
    const spec = { name: 'public-ip', capacity: 7, windowMs: 60_000 };
    const limiter = new TokenBucketLimiter(1000);
    drain(limiter, spec, 'k', T0, 7);
    // One token takes 60000/7 = 8571.43 ms.
    expect(limiter.take(spec, 'k', T0 + 8_571).allowed).toBe(false);
    expect(limiter.take(spec, 'k', T0 + 8_572).allowed).toBe(true);
    // Exactly one full window after the first drain, every one of the 7 tokens is back.
    const refilled = drain(limiter, spec, 'k', T0 + 68_572, 8);
    expect(refilled.filter((r) => r.allowed)).toHaveLength(7);
  });

  it('a clock that steps back refills nothing', () => {
    const limiter = new TokenBucketLimiter(1000);
    drain(limiter, enroll, 'k', T0, 5);
    expect(limiter.take(enroll, 'k', T0 - 30_000).allowed).toBe(false);
    expect(limiter.take(enroll, 'k', T0 + 12_000).allowed).toBe(true);
  });

  it('keeps buckets apart by bucket name and by key', () => {
    const limiter = new TokenBucketLimiter(1000);
    const publicIp = { ...enroll, name: 'public-ip' };
    drain(limiter, enroll, '192.0.2.1', T0, 5);
    expect(limiter.take(enroll, '192.0.2.1', T0).allowed).toBe(false);
    expect(limiter.take(publicIp, '192.0.2.1', T0).allowed).toBe(true);
    expect(limiter.take(enroll, '192.0.2.2', T0).allowed).toBe(true);
  });
});

describe('token bucket: header values (API.md §0.3, OPERATIONS.md §8)', () => {
  it.each([
    // [requests at T0, capacity, window, expected remaining, reset offset s, retry-after]
    { taken: 1, capacity: 5, windowMs: 60_000, remaining: 4, resetIn: 12, retryAfter: 0 },
    { taken: 5, capacity: 5, windowMs: 60_000, remaining: 0, resetIn: 60, retryAfter: 0 },
    { taken: 6, capacity: 5, windowMs: 60_000, remaining: 0, resetIn: 60, retryAfter: 12 },
    { taken: 1, capacity: 3, windowMs: 1_000, remaining: 2, resetIn: 1, retryAfter: 0 },
    { taken: 4, capacity: 3, windowMs: 1_000, remaining: 0, resetIn: 1, retryAfter: 1 },
    { taken: 1, capacity: 7, windowMs: 60_000, remaining: 6, resetIn: 9, retryAfter: 0 },
    { taken: 8, capacity: 7, windowMs: 60_000, remaining: 0, resetIn: 60, retryAfter: 9 },
    { taken: 1, capacity: 600, windowMs: 60_000, remaining: 599, resetIn: 1, retryAfter: 0 },
  ])('after $taken requests ($capacity/$windowMs ms): remaining $remaining, reset +$resetIn s, retry $retryAfter', (c) => {
    const limiter = new TokenBucketLimiter(1000);
    const last = drain(limiter, { name: 'public-ip', capacity: c.capacity, windowMs: c.windowMs }, 'k', T0, c.taken).at(-1)!;
    expect(last.remaining).toBe(c.remaining);
    expect(last.resetEpochSecs).toBe(T0 / 1000 + c.resetIn);
    expect(last.retryAfterSecs).toBe(c.retryAfter);
  });

  it('rounds the reset up to the next whole second from a mid-second now', () => {
    const limiter = new TokenBucketLimiter(1000);
    // 1 token of 5/min missing = 12 s; now is .250 into a second → full at +12.250 → ceil.
    expect(limiter.take(enroll, 'k', T0 + 250).resetEpochSecs).toBe(T0 / 1000 + 13);
  });

  it('Retry-After never drops below 1 even with a sub-second wait left', () => {
    const limiter = new TokenBucketLimiter(1000);
    drain(limiter, enroll, 'k', T0, 5);
    expect(limiter.take(enroll, 'k', T0 + 11_990).retryAfterSecs).toBe(1);
  });
});

describe('token bucket: memory', () => {
  it('keys are the first 16 bytes of sha256(<bucket>|<raw key>), never the raw key', () => {
    const expected = createHash('sha256').update('public-ip|203.0.113.9').digest().subarray(0, 16);
    expect(Buffer.from(bucketKey('public-ip', '203.0.113.9'), 'latin1')).toEqual(expected);
  });

  it('1,000,000 distinct keys keep the map at maxKeys (1000) and count every eviction', () => {
    const limiter = new TokenBucketLimiter(1000);
    for (let i = 0; i < 1_000_000; i++) limiter.take(enroll, `key-${i}`, T0);
    expect(limiter.size).toBe(1000);
    expect(limiter.evictions).toBe(999_000);
  });

  it('evicts the least recently used bucket, not the oldest created', () => {
    const limiter = new TokenBucketLimiter(3);
    for (const key of ['a', 'b', 'c']) limiter.take(enroll, key, T0);
    drain(limiter, enroll, 'a', T0, 4); // 'a' is now empty and the most recent
    limiter.take(enroll, 'd', T0); // evicts 'b'
    expect(limiter.evictions).toBe(1);
    expect(limiter.take(enroll, 'a', T0).allowed).toBe(false); // 'a' survived with its state
    expect(limiter.size).toBe(3);
  });

  it('an evicted bucket comes back full (the cost of a bounded map)', () => {
    const limiter = new TokenBucketLimiter(2);
    drain(limiter, enroll, 'a', T0, 5);
    limiter.take(enroll, 'b', T0);
    limiter.take(enroll, 'c', T0); // evicts 'a'
    expect(limiter.take(enroll, 'a', T0)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('sweep drops exactly the buckets that have refilled to capacity', () => {
    const limiter = new TokenBucketLimiter(1000);
    limiter.take(enroll, 'one-token', T0); // full again after 12 s
    drain(limiter, enroll, 'empty', T0, 5); // full again after 60 s
    limiter.take(enroll, 'recent', T0 + 50_000);
    expect(limiter.sweep(T0 + 11_999)).toBe(0);
    expect(limiter.sweep(T0 + 12_000)).toBe(1);
    expect(limiter.size).toBe(2);
    expect(limiter.sweep(T0 + 60_000)).toBe(1);
    expect(limiter.sweep(T0 + 62_000)).toBe(1);
    expect(limiter.size).toBe(0);
    expect(limiter.evictions).toBe(0);
  });

  it('sweeps in slices that resume where they stopped, even when buckets move in between', () => {
    const limiter = new TokenBucketLimiter(1000);
    for (let i = 0; i < 10; i++) limiter.take(enroll, `b${i}`, T0);
    drain(limiter, enroll, 'busy', T0, 5); // not full until T0 + 60 s
    const now = T0 + 30_000;
    expect(limiter.sweepSlice(now, 4)).toEqual({ dropped: 4, done: false });
    // Between slices: b4 (the next one the pass visits) is touched and moves to the newest end.
    limiter.take(enroll, 'b4', now);
    limiter.take(enroll, 'b9', now);
    expect(limiter.sweepSlice(now, 4)).toEqual({ dropped: 4, done: false }); // b5 b6 b7 b8
    expect(limiter.sweepSlice(now, 4)).toEqual({ dropped: 0, done: true }); // busy, then b4 b9 just charged
    expect(limiter.size).toBe(3);
    // A new pass starts from the oldest bucket again.
    expect(limiter.sweepSlice(now + 60_000, 100)).toEqual({ dropped: 3, done: true });
    expect(limiter.size).toBe(0);
  });

  it('a sweep pass survives the eviction of the bucket it would visit next', () => {
    const limiter = new TokenBucketLimiter(3);
    for (const key of ['a', 'b', 'c']) limiter.take(enroll, key, T0);
    expect(limiter.sweepSlice(T0, 1)).toEqual({ dropped: 0, done: false }); // visited a; next is b
    limiter.take(enroll, 'd', T0); // evicts a (the oldest)
    limiter.take(enroll, 'e', T0); // evicts b, the cursor
    expect(limiter.sweepSlice(T0 + 12_000, 10)).toEqual({ dropped: 3, done: true }); // c, d, e
    expect(limiter.size).toBe(0);
  });

  it('rejects a non-positive maxKeys', () => {
    expect(() => new TokenBucketLimiter(0)).toThrow(RangeError);
  });
});
