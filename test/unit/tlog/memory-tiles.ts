import { appendLeaves, hashChildren, withInterior, type TileKey, type TileReader } from '../../../src/lib/tlog/index.js';

/**
 * Tiles in a Map keyed by (level, index), each row overwritten as it grows, the way a database
 * table would keep them. A read of an older, narrower width gets the longer row (the reader
 * contract allows it); a read past what is stored throws. Every requested key is recorded.
 * With `interior`, a full tile's row carries its interior nodes after its hashes, as the proof
 * tile cache hands it out.
 */
export function memoryTiles(options: { interior?: boolean } = {}) {
  const rows = new Map<string, Uint8Array>();
  const reads: TileKey[][] = [];
  const read: TileReader = async (keys) => {
    reads.push(keys);
    return keys.map((key) => {
      const row = rows.get(`${key.level}/${key.index}`);
      if (row === undefined || row.length < key.width * 32) throw new Error(`missing tile ${key.level}/${key.index}/${key.width}`);
      return row;
    });
  };
  let size = 0;
  return {
    read,
    reads,
    rows,
    get size() { return size; },
    async append(leafHashes: Uint8Array[]): Promise<Uint8Array> {
      const result = await appendLeaves(size, Buffer.concat(leafHashes), read);
      for (const { key, bytes } of result.tiles) {
        rows.set(`${key.level}/${key.index}`, options.interior === true && key.width === 256 ? withInterior(bytes) : bytes);
      }
      size = result.size;
      return result.root;
    },
  };
}

// A reference written from RFC 9162 §2.1 over a plain array of leaf hashes, sharing nothing
// with the tile code: MTH, PATH and PROOF/SUBPROOF, recursively.

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function naiveRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return hashChildren(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

export function naivePath(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...naivePath(m, leaves.slice(0, k)), naiveRoot(leaves.slice(k))]
    : [...naivePath(m - k, leaves.slice(k)), naiveRoot(leaves.slice(0, k))];
}

export function naiveSubproof(m: number, leaves: Uint8Array[], whole: boolean): Uint8Array[] {
  if (m === leaves.length) return whole ? [] : [naiveRoot(leaves)];
  const k = split(leaves.length);
  return m <= k
    ? [...naiveSubproof(m, leaves.slice(0, k), whole), naiveRoot(leaves.slice(k))]
    : [...naiveSubproof(m - k, leaves.slice(k), false), naiveRoot(leaves.slice(0, k))];
}
