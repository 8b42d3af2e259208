import { describe, expect, it } from 'vitest';
import { toIso } from '../../../src/lib/timestamps.js';

describe('toIso', () => {
  it('equals Date.prototype.toISOString across 1970–9999, day boundaries and milliseconds', () => {
    const edges = [0, 1, 999, 1000, 59_999, 3_599_999, 86_399_999, 86_400_000, 951_782_400_000, 1_716_638_400_123, Date.UTC(2000, 1, 29, 12), Date.UTC(2100, 2, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const samples = Array.from({ length: 20_000 }, () => Math.floor(random() * Date.UTC(9999, 11, 31, 23, 59, 59, 999)));
    // Every day across a leap year and a century that is not one (1900 is before the range; 2100 is in it).
    const runs = [...Array.from({ length: 800 }, (_, i) => Date.UTC(2024, 0, 1) + i * 86_400_000 - 1), ...Array.from({ length: 800 }, (_, i) => Date.UTC(2099, 6, 1) + i * 86_400_000)];
    for (const ms of [...edges, ...samples, ...runs]) expect(toIso(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it('hands years before 1970 and after 9999 to toISOString, and keeps its RangeError for an invalid date', () => {
    for (const ms of [-1, -62_135_596_800_000, Date.UTC(10_000, 0, 1), 8.64e15]) expect(toIso(new Date(ms))).toBe(new Date(ms).toISOString());
    expect(() => toIso(new Date(Number.NaN))).toThrow(RangeError);
    expect(toIso(null)).toBeNull();
  });
});
