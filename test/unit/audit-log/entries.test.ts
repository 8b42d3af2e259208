import { describe, expect, it } from 'vitest';
import { appendEntries, BUNDLE_WIDTH, decodeEntry, ENTRY_BYTES, type EntryRef } from '../../../src/domains/audit-log/entries.js';

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
    const refs = Array.from({ length: count }, (_, i) => ref(size + i));
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

  it('has no entry past the end of a partial bundle', () => {
    const bundles = build([10]);
    expect(decodeEntry(bundles.get(0)!, 10)).toBeUndefined();
  });
});
