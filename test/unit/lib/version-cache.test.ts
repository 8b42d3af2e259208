import { describe, expect, it } from 'vitest';
import { VersionCache } from '../../../src/lib/version-cache.js';

function fakeNow(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('VersionCache', () => {
  it('serves a value only for the version it was stored with', () => {
    const cache = new VersionCache<string>(10, 60_000);
    cache.set('a', '1 active', 'A1');
    expect(cache.get('a', '1 active')).toBe('A1');
    expect(cache.get('a', '2 active')).toBeUndefined();
    expect(cache.get('a', '1 expired')).toBeUndefined();
    expect(cache.get('b', '1 active')).toBeUndefined();
    cache.set('a', '2 active', 'A2');
    expect(cache.get('a', '1 active')).toBeUndefined();
    expect(cache.get('a', '2 active')).toBe('A2');
    expect(cache.size).toBe(1);
  });

  it('drops an entry once it is older than the ttl', () => {
    const clock = fakeNow();
    const cache = new VersionCache<string>(10, 1_000, clock.now);
    cache.set('a', 'v', 'A');
    clock.advance(1_000);
    expect(cache.get('a', 'v')).toBe('A');
    clock.advance(1);
    expect(cache.get('a', 'v')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most max entries, dropping the oldest generation whole', () => {
    const cache = new VersionCache<number>(4, 60_000);
    for (let i = 0; i < 10; i++) {
      cache.set(`k${i}`, '', i);
      expect(cache.size).toBeLessThanOrEqual(4);
    }
    expect(cache.get('k9', '')).toBe(9);
    expect(cache.get('k8', '')).toBe(8);
    expect(cache.get('k0', '')).toBeUndefined();
    expect(cache.get('k5', '')).toBeUndefined();
  });

  it('keeps an entry that is read while in the old generation', () => {
    const cache = new VersionCache<number>(4, 60_000);
    cache.set('hot', '', 1);
    cache.set('a', '', 2); // young full: hot and a become the old generation
    expect(cache.get('hot', '')).toBe(1); // moved back to the young generation
    cache.set('b', '', 3); // young full again: hot and b old, a dropped
    cache.set('c', '', 4);
    expect(cache.get('a', '')).toBeUndefined();
    expect(cache.get('hot', '')).toBe(1);
  });

  it('stores a key once, whichever generation held it', () => {
    const cache = new VersionCache<number>(100, 60_000);
    cache.set('a', '1', 1);
    cache.set('a', '2', 2);
    expect(cache.size).toBe(1);
    expect(cache.get('a', '2')).toBe(2);
  });
});
