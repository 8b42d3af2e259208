import { describe, expect, it } from 'vitest';
import { RANGES, resolveRange, zeroFilledBuckets } from '../../../src/domains/dashboard/buckets.js';

describe('resolveRange', () => {
  it('takes range, else window, and falls back to 24h for anything unknown', () => {
    expect(resolveRange('1h', undefined)).toBe('1h');
    expect(resolveRange(undefined, '7d')).toBe('7d');
    expect(resolveRange('30d', '1h')).toBe('30d');
    expect(resolveRange(undefined, undefined)).toBe('24h');
    expect(resolveRange('2h', undefined)).toBe('24h');
    expect(resolveRange('bogus', '7d')).toBe('24h');
    expect(resolveRange('constructor', undefined)).toBe('24h');
  });
});

describe('zeroFilledBuckets', () => {
  const now = Date.UTC(2026, 4, 25, 12, 34, 56, 789);
  const cases: Array<[keyof typeof RANGES, number]> = [
    ['1h', 61],
    ['24h', 25],
    ['7d', 8],
    ['30d', 31],
  ];

  it.each(cases)('%s spans from the bucket holding since to the one holding now: %i buckets', (range, expected) => {
    const { hours, bucketMs } = RANGES[range];
    const since = now - hours * 3_600_000;
    const buckets = zeroFilledBuckets(since, now, bucketMs, new Map());
    expect(buckets).toHaveLength(expected);
    expect(Date.parse(buckets[0]!.bucket)).toBe(Math.floor(since / bucketMs) * bucketMs);
    expect(Date.parse(buckets.at(-1)!.bucket)).toBe(Math.floor(now / bucketMs) * bucketMs);
    expect(buckets.every((b) => b.count === 0)).toBe(true);
  });

  it('has the same count when since falls exactly on a bucket start', () => {
    const aligned = Date.UTC(2026, 4, 25, 12, 0, 0, 0);
    expect(zeroFilledBuckets(aligned - 3_600_000, aligned, 60_000, new Map())).toHaveLength(61);
  });

  it('places counts by bucket index, ascending, ISO starts, and drops indexes outside the span', () => {
    const hour = 3_600_000;
    const lastIndex = Math.floor(now / hour);
    const counts = new Map([
      [lastIndex, 3],
      [lastIndex - 2, 1],
      [lastIndex + 1, 9],
    ]);
    const buckets = zeroFilledBuckets(now - 24 * hour, now, hour, counts);
    expect(buckets.at(-1)).toEqual({ bucket: '2026-05-25T12:00:00.000Z', count: 3 });
    expect(buckets.at(-3)).toEqual({ bucket: '2026-05-25T10:00:00.000Z', count: 1 });
    expect(buckets[0]!.bucket).toBe('2026-05-24T12:00:00.000Z');
    expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(4);
  });
});
