/** Dashboard ranges (API.md §8.1): look-back and chart bucket size. */
export const RANGES = {
  '1h': { hours: 1, bucketMs: 60_000 },
  '24h': { hours: 24, bucketMs: 3_600_000 },
  '7d': { hours: 168, bucketMs: 86_400_000 },
  '30d': { hours: 720, bucketMs: 86_400_000 },
} as const;

export type RangeName = keyof typeof RANGES;

/** `range` wins over `window`; absent or invalid → `24h`, never a 400 (API.md §8.1, compatibility). */
export function resolveRange(range: string | undefined, window: string | undefined): RangeName {
  const value = range ?? window;
  return value !== undefined && Object.hasOwn(RANGES, value) ? (value as RangeName) : '24h';
}

export interface Bucket {
  bucket: string;
  count: number;
}

/**
 * Every bucket from the one containing `sinceMs` to the one containing `nowMs`, ascending,
 * zero where nothing was counted. `counts` is keyed by bucket index (start / bucketMs);
 * indexes outside the span (rows newer than `now`) are left out.
 * Sizes: 1h → 61 minute buckets, 24h → 25 hours, 7d → 8 days, 30d → 31 days.
 */
export function zeroFilledBuckets(sinceMs: number, nowMs: number, bucketMs: number, counts: ReadonlyMap<number, number>): Bucket[] {
  const first = Math.floor(sinceMs / bucketMs);
  const last = Math.floor(nowMs / bucketMs);
  const buckets: Bucket[] = [];
  for (let i = first; i <= last; i++) buckets.push({ bucket: new Date(i * bucketMs).toISOString(), count: counts.get(i) ?? 0 });
  return buckets;
}
