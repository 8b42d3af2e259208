import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT, hashLeaf, proveConsistency, proveInclusion, treeHash, verifyConsistency, verifyInclusion,
} from '../../../src/lib/tlog/index.js';
import {
  CT_CONSISTENCY_PROOFS, CT_EMPTY_ROOT, CT_INCLUSION_PROOFS, CT_LEAVES, CT_ROOTS,
} from '../../fixtures/tlog/reference-vectors.js';
import { memoryTiles } from './memory-tiles.js';

// RFC 9162 §2.1 against the CT reference test data (see the fixture for the source).

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const leafHashes = CT_LEAVES.map((l) => hashLeaf(unhex(l)));
const flip = (proof: Uint8Array[], i: number): Uint8Array[] =>
  proof.map((p, j) => (j === i ? p.map((b, k) => (k === 0 ? b ^ 8 : b)) : p));

async function treeOf(size: number) {
  const store = memoryTiles();
  await store.append(leafHashes.slice(0, size));
  return store;
}

describe('tree hashes', () => {
  it('the empty tree hashes to SHA-256 of nothing', () => {
    expect(hex(EMPTY_ROOT)).toBe(CT_EMPTY_ROOT);
  });

  it.each(CT_ROOTS.map((root, i) => [i + 1, root] as const))('the tree of the first %i leaves has the published root', async (size, root) => {
    const store = await treeOf(size);
    expect(hex(await treeHash(size, store.read))).toBe(root);
  });

  it('appending one leaf at a time passes through every published root', async () => {
    const store = memoryTiles();
    for (let i = 0; i < 8; i++) expect(hex(await store.append([leafHashes[i]!]))).toBe(CT_ROOTS[i]);
  });
});

describe('inclusion proofs', () => {
  it.each(CT_INCLUSION_PROOFS)('leaf $index in size $size: generated exactly and verified', async ({ index, size, proof }) => {
    const store = await treeOf(8);
    const made = await proveInclusion(index, size, store.read);
    expect(made.map(hex)).toEqual(proof);
    const root = unhex(CT_ROOTS[size - 1]!);
    expect(verifyInclusion(leafHashes[index]!, index, size, proof.map(unhex), root)).toBe(true);
  });

  it.each(CT_INCLUSION_PROOFS.filter((v) => v.proof.length > 0))('leaf $index in size $size: every tampering fails', ({ index, size, proof }) => {
    const p = proof.map(unhex);
    const root = unhex(CT_ROOTS[size - 1]!);
    const leaf = leafHashes[index]!;
    const wrong: [Uint8Array, number, number, Uint8Array[], Uint8Array][] = [
      [leaf, index - 1, size, p, root],
      [leaf, index + 1, size, p, root],
      [leaf, index ^ 2, size, p, root],
      [leaf, index, size * 2, p, root],
      [leaf, index, Math.floor(size / 2), p, root],
      [hashLeaf(new TextEncoder().encode('WrongLeaf')), index, size, p, root],
      [leaf, index, size, p, EMPTY_ROOT],
      [leaf, index, size, [...p, root], root],
      [leaf, index, size, [root, ...p], root],
      [leaf, index, size, p.slice(0, -1), root],
      [leaf, index, size, [...p, new Uint8Array(0)], root],
      ...p.map((_, i) => [leaf, index, size, flip(p, i), root] as [Uint8Array, number, number, Uint8Array[], Uint8Array]),
    ];
    for (const args of wrong) expect(verifyInclusion(...args)).toBe(false);
  });
});

describe('consistency proofs', () => {
  it.each(CT_CONSISTENCY_PROOFS)('$from to $to: generated exactly and verified', async ({ from, to, proof }) => {
    const store = await treeOf(8);
    expect((await proveConsistency(from, to, store.read)).map(hex)).toEqual(proof);
    const r1 = unhex(CT_ROOTS[from - 1]!);
    const r2 = unhex(CT_ROOTS[to - 1]!);
    expect(verifyConsistency(from, to, proof.map(unhex), r1, r2)).toBe(true);
  });

  it.each(CT_CONSISTENCY_PROOFS.filter((v) => v.proof.length > 0))('$from to $to: every tampering fails', ({ from, to, proof }) => {
    const p = proof.map(unhex);
    const r1 = unhex(CT_ROOTS[from - 1]!);
    const r2 = unhex(CT_ROOTS[to - 1]!);
    const wrong: [number, number, Uint8Array[], Uint8Array, Uint8Array][] = [
      [from - 1, to, p, r1, r2],
      [from + 1, to, p, r1, r2],
      [from ^ 2, to, p, r1, r2],
      [from, to * 2, p, r1, r2],
      [from, Math.floor(to / 2), p, r1, r2],
      [from, to, p, EMPTY_ROOT, r2],
      [from, to, p, r1, EMPTY_ROOT],
      [from, to, p, r2, r1],
      [from, to, [], r1, r2],
      [from, to, [...p, r1], r1, r2],
      [from, to, [...p, r2], r1, r2],
      [from, to, [r1, ...p], r1, r2],
      [from, to, [r2, ...p], r1, r2],
      [from, to, [p[0]!, ...p], r1, r2],
      [from, to, p.slice(0, -1), r1, r2],
      ...p.map((_, i) => [from, to, flip(p, i), r1, r2] as [number, number, Uint8Array[], Uint8Array, Uint8Array]),
    ];
    for (const args of wrong) expect(verifyConsistency(...args)).toBe(false);
  });

  it('trivial sizes: equal sizes need equal roots, the empty tree needs the empty root', () => {
    const r1 = unhex(CT_ROOTS[0]!);
    const r2 = unhex(CT_ROOTS[1]!);
    expect(verifyConsistency(1, 1, [], r1, r1)).toBe(true);
    expect(verifyConsistency(1, 1, [], r1, r2)).toBe(false);
    expect(verifyConsistency(1, 1, [r1], r1, r1)).toBe(false);
    expect(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)).toBe(true);
    expect(verifyConsistency(0, 2, [], EMPTY_ROOT, r2)).toBe(true);
    expect(verifyConsistency(0, 2, [], r1, r2)).toBe(false);
    expect(verifyConsistency(0, 2, [EMPTY_ROOT], EMPTY_ROOT, r2)).toBe(false);
    expect(verifyConsistency(2, 1, [], r2, r1)).toBe(false);
    expect(verifyConsistency(1, 2, [], r1, r2)).toBe(false);
  });
});
