import { describe, expect, it } from 'vitest';
import {
  SubtreeCache, TileReadError, appendLeaves, hashLeaf, leafHashAt, parseTilePath, proveConsistency, proveInclusion, tilePath,
  tilesForSize, treeHash, verifyConsistency, verifyInclusion, withInterior, type TileKey,
} from '../../../src/lib/tlog/index.js';
import { memoryTiles, naivePath, naiveRoot, naiveSubproof } from './memory-tiles.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const leaves = (from: number, to: number): Uint8Array[] =>
  Array.from({ length: to - from }, (_, i) => hashLeaf(new TextEncoder().encode(`leaf ${from + i}`)));

// A three-level tree (70,000 leaves: the spec's example size), built once and only read.
const big = leaves(0, 70_000);
const bigStores = new Map<boolean, Promise<ReturnType<typeof memoryTiles>>>();
function bigTree(interior = false): Promise<ReturnType<typeof memoryTiles>> {
  let store = bigStores.get(interior);
  if (store === undefined) {
    store = (async () => {
      const tiles = memoryTiles({ interior });
      await tiles.append(big);
      return tiles;
    })();
    bigStores.set(interior, store);
  }
  return store;
}

describe('tile paths (C2SP tlog-tiles §Merkle Tree)', () => {
  // The spec's example index 1234067 -> x001/x234/067; the others adapt the path table of
  // golang.org/x/mod/sumdb/tlog (tile_test.go) to the fixed height 8, which drops <H>.
  it.each<[TileKey, string]>([
    [{ level: 0, index: 1234067, width: 256 }, '0/x001/x234/067'],
    [{ level: 0, index: 1, width: 256 }, '0/001'],
    [{ level: 0, index: 1, width: 5 }, '0/001.p/5'],
    [{ level: 5, index: 123456078, width: 256 }, '5/x123/x456/078'],
    [{ level: 5, index: 123456078, width: 2 }, '5/x123/x456/078.p/2'],
    [{ level: 0, index: 3057500, width: 256 }, '0/x003/x057/500'],
    [{ level: 0, index: 0, width: 1 }, '0/000.p/1'],
    [{ level: 2, index: 1000, width: 255 }, '2/x001/000.p/255'],
    [{ level: 63, index: Number.MAX_SAFE_INTEGER, width: 256 }, '63/x009/x007/x199/x254/x740/991'],
  ])('%o <-> %s', (key, path) => {
    expect(tilePath(key)).toBe(path);
    expect(parseTilePath(path)).toEqual(key);
  });

  it.each([
    '5/123/456/078', // groups without x
    '-1/x123/x456/078',
    '00/001', // leading zero in <L>
    '64/001', // level above 63
    '0/1', // group not 3 digits
    '0/x000/001', // leading all-zero group
    '0/001.p/0',
    '0/001.p/256', // full tiles have no suffix
    '0/001.p/007',
    '0/001.p/',
    '0/001/',
    '/0/001',
    '0/x001',
    'entries/001',
    '0/x009/x007/x199/x254/x740/992', // beyond a safe integer
    '0/x001/x002/x003/x004/x005/x006/007',
    '',
  ])('rejects %j', (path) => {
    expect(parseTilePath(path)).toBeNull();
  });

  it('tilePath refuses keys outside the layout', () => {
    expect(() => tilePath({ level: 0, index: 0, width: 0 })).toThrow(RangeError);
    expect(() => tilePath({ level: 0, index: 0, width: 257 })).toThrow(RangeError);
    expect(() => tilePath({ level: 64, index: 0, width: 1 })).toThrow(RangeError);
    expect(() => tilePath({ level: 0, index: -1, width: 1 })).toThrow(RangeError);
  });
});

describe('tilesForSize (the spec examples)', () => {
  it('a tree of 70,000: 273 full and one 112-wide level-0 tiles, one full and one 17-wide level-1 tile, one 1-wide level-2 tile', () => {
    const keys = tilesForSize(70_000);
    const level0 = keys.filter((k) => k.level === 0);
    expect(level0).toHaveLength(274);
    expect(level0.filter((k) => k.width === 256)).toHaveLength(273);
    expect(level0.at(-1)).toEqual({ level: 0, index: 273, width: 112 });
    expect(keys.filter((k) => k.level > 0)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
      { level: 2, index: 0, width: 1 },
    ]);
  });

  it('a tree of 256: one full level-0 tile and a 1-wide level-1 tile; the empty tree has none', () => {
    expect(tilesForSize(256)).toEqual([{ level: 0, index: 0, width: 256 }, { level: 1, index: 0, width: 1 }]);
    expect(tilesForSize(0)).toEqual([]);
  });
});

describe('appendLeaves', () => {
  it('matches a naive RFC 9162 tree hash at every size 1..600, appended in uneven batches', async () => {
    const all = leaves(0, 600);
    const store = memoryTiles();
    const batches = [1, 2, 3, 250, 1, 7, 0, 60, 255, 21];
    for (let b = 0; store.size < all.length; b++) {
      const take = Math.min(batches[b % batches.length]!, all.length - store.size);
      const root = await store.append(all.slice(store.size, store.size + take));
      if (store.size > 0) expect(hex(root)).toBe(hex(naiveRoot(all.slice(0, store.size))));
    }
    // Every size, read back from the stored tiles (grown rows serve their older widths).
    for (let size = 1; size <= all.length; size++) {
      expect(hex(await treeHash(size, store.read))).toBe(hex(naiveRoot(all.slice(0, size))));
    }
  });

  it('stores exactly the tiles the spec describes for the new size', async () => {
    for (const size of [1, 255, 256, 257, 511, 512, 600]) {
      const store = memoryTiles();
      await store.append(leaves(0, size));
      const expected = tilesForSize(size).map((k) => `${k.level}/${k.index}:${k.width}`);
      const stored = [...store.rows].map(([at, data]) => `${at}:${data.length / 32}`);
      expect(stored.sort()).toEqual(expected.sort());
    }
  });

  it('returns only new or grown tiles with their current widths', async () => {
    const store = memoryTiles();
    await store.append(leaves(0, 300));
    const result = await appendLeaves(300, Buffer.concat(leaves(300, 301)), store.read);
    expect(result.tiles.map((t) => t.key)).toEqual([{ level: 0, index: 1, width: 45 }]);
    const crossing = await appendLeaves(300, Buffer.concat(leaves(300, 512)), store.read);
    expect(crossing.tiles.map((t) => t.key)).toEqual([
      { level: 0, index: 1, width: 256 },
      { level: 1, index: 0, width: 2 },
    ]);
  });

  it('reads O(levels) tiles, never the whole tree', async () => {
    const store = await bigTree();
    store.reads.length = 0;
    const result = await appendLeaves(70_000, Buffer.concat(leaves(70_000, 70_001)), store.read);
    const read = store.reads.flat();
    expect(read.length).toBeLessThanOrEqual(3);
    expect(result.tiles).toHaveLength(1);
  });

  it("a grown tile is its hashes only; withInterior adds a full tile's 254 nodes, sub-level 1 first", async () => {
    const all = leaves(0, 300);
    const { tiles } = await appendLeaves(0, Buffer.concat(all), memoryTiles().read);
    const full = tiles.find((t) => t.key.level === 0 && t.key.width === 256)!;
    expect(hex(full.bytes)).toBe(hex(Buffer.concat(all.slice(0, 256))));
    expect(tiles.find((t) => t.key.width === 44)!.bytes).toHaveLength(44 * 32);
    const expected: string[] = [];
    for (let width = 2; width < 256; width *= 2) {
      for (let at = 0; at < 256; at += width) expected.push(hex(naiveRoot(all.slice(at, at + width))));
    }
    const tile = withInterior(full.bytes);
    expect(hex(tile.subarray(0, 256 * 32))).toBe(hex(full.bytes));
    const interior = Array.from({ length: 254 }, (_, i) => hex(tile.subarray((256 + i) * 32, (257 + i) * 32)));
    expect(interior).toEqual(expected);
    expect(() => withInterior(full.bytes.subarray(0, 255 * 32))).toThrow(RangeError);
  });

  it('proofs take nodes from a stored interior rather than rehashing the tile', async () => {
    const store = memoryTiles({ interior: true });
    const all = leaves(0, 600);
    await store.append(all);
    const honest = await proveInclusion(3, 600, store.read);
    expect(honest.map(hex)).toEqual(naivePath(3, all).map(hex));
    // Flip a byte of the sub-level-1 node over leaves 0–1 (interior slot 0, right after the 256 hashes).
    const row = store.rows.get('0/0')!;
    row[256 * 32]! ^= 1;
    const proof = await proveInclusion(3, 600, store.read);
    expect(hex(proof[1]!)).not.toBe(hex(honest[1]!));
    expect(proof.filter((p, i) => hex(p) !== hex(honest[i]!))).toHaveLength(1);
  });

  it('an empty batch changes nothing; bad input is refused', async () => {
    const store = memoryTiles();
    await store.append(leaves(0, 5));
    const same = await appendLeaves(5, new Uint8Array(0), store.read);
    expect(same.tiles).toEqual([]);
    expect(same.size).toBe(5);
    expect(hex(same.root)).toBe(hex(await treeHash(5, store.read)));
    await expect(appendLeaves(5, new Uint8Array(31), store.read)).rejects.toThrow(RangeError);
    await expect(appendLeaves(-1, new Uint8Array(0), store.read)).rejects.toThrow(RangeError);
  });
});

describe.each([
  { stored: 'hashes only', interior: false },
  { stored: 'with interior nodes', interior: true },
])('proofs from tiles ($stored)', ({ interior }) => {
  const all = leaves(0, 600);
  const storePromise = (async () => {
    const store = memoryTiles({ interior });
    await store.append(all.slice(0, 333));
    await store.append(all.slice(333));
    return store;
  })();
  const sizes = [1, 2, 3, 7, 8, 9, 255, 256, 257, 300, 511, 512, 513, 600];

  it('inclusion proofs equal the RFC reference and verify, at many (index, size)', async () => {
    const store = await storePromise;
    for (const size of sizes) {
      const root = naiveRoot(all.slice(0, size));
      for (const index of new Set([0, 1, Math.floor(size / 2), size - 2, size - 1].filter((i) => i >= 0 && i < size))) {
        const proof = await proveInclusion(index, size, store.read);
        expect(proof.map(hex)).toEqual(naivePath(index, all.slice(0, size)).map(hex));
        expect(verifyInclusion(all[index]!, index, size, proof, root)).toBe(true);
        expect(hex(await leafHashAt(index, size, store.read))).toBe(hex(all[index]!));
        if (proof.length > 0) {
          const tampered = proof.map((p, i) => (i === proof.length - 1 ? p.map((b) => b ^ 1) : p));
          expect(verifyInclusion(all[index]!, index, size, tampered, root)).toBe(false);
          expect(verifyInclusion(all[index]!, index, size, proof, all[index]!)).toBe(false);
        }
      }
    }
  });

  it('consistency proofs equal the RFC reference and verify, at many (from, to)', async () => {
    const store = await storePromise;
    for (const to of sizes) {
      const toRoot = naiveRoot(all.slice(0, to));
      for (const from of sizes.filter((s) => s <= to)) {
        const fromRoot = naiveRoot(all.slice(0, from));
        const proof = await proveConsistency(from, to, store.read);
        expect(proof.map(hex)).toEqual((from === to ? [] : naiveSubproof(from, all.slice(0, to), true)).map(hex));
        expect(verifyConsistency(from, to, proof, fromRoot, toRoot)).toBe(true);
        if (proof.length > 0) {
          const tampered = proof.map((p, i) => (i === 0 ? p.map((b) => b ^ 1) : p));
          expect(verifyConsistency(from, to, tampered, fromRoot, toRoot)).toBe(false);
          expect(verifyConsistency(from, to, proof, toRoot, toRoot)).toBe(false);
        }
      }
    }
  });

  it('a proof in a 70,000-leaf tree reads at most two tiles per level, in one call', async () => {
    const many = big;
    const store = await bigTree(interior);
    const root = await treeHash(70_000, store.read);
    for (const index of [0, 12_345, 65_535, 65_536, 69_999]) {
      store.reads.length = 0;
      const proof = await proveInclusion(index, 70_000, store.read);
      expect(store.reads).toHaveLength(1);
      expect(store.reads[0]!.length).toBeLessThanOrEqual(6);
      expect(verifyInclusion(many[index]!, index, 70_000, proof, root)).toBe(true);
    }
    store.reads.length = 0;
    const proof = await proveConsistency(40_000, 70_000, store.read);
    expect(store.reads[0]!.length).toBeLessThanOrEqual(6);
    expect(verifyConsistency(40_000, 70_000, proof, await treeHash(40_000, store.read), root)).toBe(true);
  });

  it('refuses out-of-range arguments and short tiles', async () => {
    const store = await storePromise;
    await expect(proveInclusion(600, 600, store.read)).rejects.toThrow(RangeError);
    await expect(proveInclusion(0, 601, store.read)).rejects.toThrow();
    await expect(proveConsistency(5, 4, store.read)).rejects.toThrow(RangeError);
    await expect(proveConsistency(1.5, 4, store.read)).rejects.toThrow(RangeError);
    await expect(leafHashAt(0, 0, store.read)).rejects.toThrow(RangeError);
    expect(await proveConsistency(0, 600, store.read)).toEqual([]);
    const short = async (keys: TileKey[]) => keys.map(() => new Uint8Array(31));
    await expect(treeHash(5, short)).rejects.toThrow(TileReadError);
    await expect(treeHash(5, async () => [])).rejects.toThrow(TileReadError);
  });
});

describe('SubtreeCache', () => {
  it('one cache shared while the log grows gives the same roots and proofs, with fewer tile reads', async () => {
    const all = leaves(0, 1100);
    const store = memoryTiles();
    const cache = new SubtreeCache(64);
    for (const batch of [3, 250, 300, 17, 530]) {
      await store.append(all.slice(store.size, store.size + batch));
      const size = store.size;
      expect(hex(await treeHash(size, store.read, cache))).toBe(hex(naiveRoot(all.slice(0, size))));
      for (const index of [0, 255, 256, Math.floor(size / 3), size - 1].filter((i) => i < size)) {
        const proof = await proveInclusion(index, size, store.read, cache);
        expect(proof.map(hex)).toEqual(naivePath(index, all.slice(0, size)).map(hex));
      }
      for (const from of [1, 256, Math.floor(size / 2)].filter((f) => f <= size)) {
        const proof = await proveConsistency(from, size, store.read, cache);
        expect(proof.map(hex)).toEqual((from === size ? [] : naiveSubproof(from, all.slice(0, size), true)).map(hex));
      }
      expect(cache.size).toBeLessThanOrEqual(64);
    }
    store.reads.length = 0;
    await treeHash(store.size, store.read, cache);
    expect(store.reads).toHaveLength(0);
  });

  it('evicts the least recently used entry', () => {
    const cache = new SubtreeCache(2);
    const h = (n: number) => new Uint8Array(32).fill(n);
    const bytes = (hash: Uint8Array | undefined) => (hash === undefined ? undefined : [...hash]);
    cache.set(1, 0, h(1));
    cache.set(1, 1, h(2));
    expect(bytes(cache.get(1, 0))).toEqual(bytes(h(1)));
    cache.set(1, 2, h(3));
    expect(cache.get(1, 1)).toBeUndefined();
    expect(bytes(cache.get(1, 0))).toEqual(bytes(h(1)));
    expect(cache.size).toBe(2);
    expect(() => new SubtreeCache(0)).toThrow(RangeError);
  });
});
