import { describe, expect, it } from 'vitest';
import { appendEntries, BUNDLE_WIDTH, decodeEntry, encodeEntry, ENTRY_BYTES, type EntryRef } from '../../../src/domains/audit-log/entries.js';

const ref = (n: number): EntryRef => ({
  kind: n % 3 === 0 ? 'admin' : 'event',
  id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
  createdMs: 1_796_000_000_000 + n,
});

/** Appends in uneven steps, as integrator runs do, and reads every entry back. */
function build(steps: number[]): Map<number, Buffer> {
  const bundles = new Map<number, Buffer>();
  let size = 0;
  for (const count of steps) {
    const refs = Buffer.alloc(count * ENTRY_BYTES);
    for (let i = 0; i < count; i++) {
      const r = ref(size + i);
      encodeEntry(r.kind, r.id, r.createdMs, refs, i * ENTRY_BYTES);
    }
    const partial = bundles.get(Math.floor(size / BUNDLE_WIDTH)) ?? Buffer.alloc(0);
    for (const bundle of appendEntries(size, size % BUNDLE_WIDTH === 0 ? Buffer.alloc(0) : partial, refs)) bundles.set(bundle.bundleIndex, bundle.entries);
    size += count;
  }
  return bundles;
}

describe('entry bundles', () => {
  it('keep every leaf’s kind, id and created_at across partial bundles rewritten as they grow', () => {
    const steps = [1, 255, 3, 600, 256, 7];
    const total = steps.reduce((a, b) => a + b, 0);
    const bundles = build(steps);
    expect([...bundles.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: Math.ceil(total / BUNDLE_WIDTH) }, (_, i) => i));
    for (let leaf = 0; leaf < total; leaf++) expect(decodeEntry(bundles.get(Math.floor(leaf / BUNDLE_WIDTH))!, leaf % BUNDLE_WIDTH)).toEqual(ref(leaf));
    expect(bundles.get(0)!.length).toBe(BUNDLE_WIDTH * ENTRY_BYTES);
    expect(bundles.get(Math.floor(total / BUNDLE_WIDTH))!.length).toBe((total % BUNDLE_WIDTH) * ENTRY_BYTES);
  });

  it('refuses entries that are not whole', () => {
    expect(() => appendEntries(0, Buffer.alloc(0), Buffer.alloc(ENTRY_BYTES + 1))).toThrow(RangeError);
  });

  it('has no entry past the end of a partial bundle', () => {
    const bundles = build([10]);
    expect(decodeEntry(bundles.get(0)!, 10)).toBeUndefined();
  });

  it('encodes the id from any UUID text and created_at as a signed 64-bit value, and refuses what is not a UUID', () => {
    const at = (createdMs: number, id = '0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0FF') => {
      const into = Buffer.alloc(ENTRY_BYTES);
      encodeEntry('event', id, createdMs, into, 0);
      return into;
    };
    for (const createdMs of [0, 1, -1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32) - 1, 1_796_000_000_123, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const into = at(createdMs);
      expect(into.readBigInt64BE(17)).toBe(BigInt(createdMs));
      expect(decodeEntry(into, 0)).toEqual({ kind: 'event', id: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0ff', createdMs });
    }
    for (const id of ['0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f', '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0fg', 'x', '']) expect(() => at(0, id)).toThrow(RangeError);
  });
});
