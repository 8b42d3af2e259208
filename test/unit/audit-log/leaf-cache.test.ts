import { describe, expect, it } from 'vitest';
import { LeafHashCache } from '../../../src/domains/audit-log/leaf-cache.js';

const hash = (n: number): string => String.fromCharCode(n).repeat(32);
const hex = (bytes: Uint8Array | string | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).toString('hex');

describe('LeafHashCache', () => {
  it('gives a remembered hash once, then forgets it', () => {
    const cache = new LeafHashCache(10);
    cache.remember('a', hash(1));
    cache.remember('b', hash(2));
    expect(hex(cache.take('b'))).toBe(hex(hash(2)));
    expect(cache.take('b')).toBeUndefined();
    expect(cache.take('missing')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('keeps at most its capacity, dropping the oldest first', () => {
    const cache = new LeafHashCache(3);
    for (let i = 0; i < 5; i++) cache.remember(`e${i}`, hash(i));
    expect(cache.size).toBe(3);
    expect(cache.take('e0')).toBeUndefined();
    expect(cache.take('e1')).toBeUndefined();
    expect(hex(cache.take('e2'))).toBe(hex(hash(2)));
    expect(hex(cache.take('e4'))).toBe(hex(hash(4)));
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LeafHashCache(0)).toThrow(RangeError);
    expect(() => new LeafHashCache(1.5)).toThrow(RangeError);
  });
});
