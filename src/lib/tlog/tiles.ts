import { EMPTY_ROOT, HASH_SIZE, hashChildren, hashPairInto } from './hash.js';
import type { SubtreeCache } from './subtree-cache.js';
import {
  TILE_HEIGHT, TILE_WIDTH, assertSize, hashesAtLevel, tileKeyAt, tilePath, type TileKey,
} from './tile-path.js';

export { TILE_HEIGHT, TILE_WIDTH, parseTilePath, tilePath, tilesForSize, type TileKey } from './tile-path.js';
export { SubtreeCache } from './subtree-cache.js';

/**
 * Returns the bytes of each requested tile, in order. An entry may be longer than
 * `width * 32` bytes (a stored tile that has grown since); only its prefix is used. A full
 * tile may carry its interior nodes after its 256 hashes (TileInterior), which spares proofs
 * the rehashing inside it.
 */
export type TileReader = (keys: TileKey[]) => Promise<Uint8Array[]>;

/** A tile that grew: its `key.width` hashes, packed (what tlog-tiles serves and the store keeps). */
export interface GrownTile {
  key: TileKey;
  bytes: Uint8Array;
}

/**
 * The interior of a full tile: the 254 node hashes between its 256 hashes and its root, sub-level
 * 1 (128 hashes) first, then 2 (64), … 7 (2), so the node of sub-level j ≥ 1 covering hashes
 * [s·2^j, (s+1)·2^j) sits at hash offset 256 − 2^(9−j) + s.
 */
export const TILE_INTERIOR_HASHES = TILE_WIDTH - 2;
const TILE_BYTES = TILE_WIDTH * HASH_SIZE;
const FULL_TILE_BYTES = (TILE_WIDTH + TILE_INTERIOR_HASHES) * HASH_SIZE;
const EMPTY = new Uint8Array(0);
// Where appendLeaves hashes a full tile up to its root: hashing is synchronous, so one buffer
// serves every tile, and the interior it passes through is neither kept nor stored.
const SCRATCH_INTERIOR = new Uint8Array(TILE_INTERIOR_HASHES * HASH_SIZE);

/** The reader answered with fewer entries or bytes than the tiles it was asked for. */
export class TileReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TileReadError';
  }
}

// A complete subtree: MTH(D[index·2^height : (index+1)·2^height]) (RFC 9162 §2.1.1).
interface Node {
  height: number;
  index: number;
}

/** The largest power of two strictly below n (n >= 2): the split point k of RFC 9162 §2.1.1. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The complete subtrees that make up D[start:end], largest first. For every range the RFC
 * recursion produces (a complete subtree, or a right edge ending at the tree size) the start
 * is aligned to the largest power of two that fits, so these are the binary digits of the length.
 */
function rangeNodes(start: number, end: number): Node[] {
  const nodes: Node[] = [];
  for (let at = start; at < end;) {
    let width = 1;
    let height = 0;
    while (at % (width * 2) === 0 && width * 2 <= end - at) {
      width *= 2;
      height++;
    }
    nodes.push({ height, index: at / width });
    at += width;
  }
  return nodes;
}

/** MTH of the ranges, reading every tile they need in one reader call. */
async function rangeHashes(
  ranges: [number, number][],
  size: number,
  read: TileReader,
  cache: SubtreeCache | undefined,
): Promise<Uint8Array[]> {
  const perRange = ranges.map(([start, end]) => rangeNodes(start, end));
  const hashes = await nodeHashes(perRange.flat(), size, read, cache);
  let next = 0;
  return perRange.map((nodes) => {
    const own = hashes.slice(next, next + nodes.length);
    next += nodes.length;
    // RFC 9162 §2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])), so fold from the right.
    let hash = own[own.length - 1]!;
    for (let i = own.length - 2; i >= 0; i--) hash = hashChildren(own[i]!, hash);
    return hash;
  });
}

/**
 * The hash of each complete subtree. A subtree of height 8·L + j is the Merkle root of 2^j
 * consecutive hashes of one level-L tile (tlog-tiles: the levels between tiles are
 * reconstructed by hashing), so each node costs one tile, shared between nodes.
 */
async function nodeHashes(
  nodes: Node[],
  size: number,
  read: TileReader,
  cache: SubtreeCache | undefined,
): Promise<Uint8Array[]> {
  const hashes = nodes.map((node) => (node.height > 0 ? cache?.get(node.height, node.index) : undefined));
  const missing = nodes.filter((_, i) => hashes[i] === undefined);
  const spots = missing.map((node) => locate(node, size));
  const tiles = await readTiles(spots.map((s) => s.key), read);
  const computed = spots.map(({ key, offset, count }, i) => {
    const data = tiles.get(tilePath(key))!;
    const hash = storedInterior(data, offset, count) ?? merkleRoot(splitHashes(data.subarray(offset * HASH_SIZE, (offset + count) * HASH_SIZE)));
    // Cache what proofs share: nodes above the leaf tiles and the right edge. A random leaf's
    // siblings inside its own leaf tile are rarely asked for again and would evict them.
    const node = missing[i]!;
    if (node.height >= TILE_HEIGHT || key.width < TILE_WIDTH) cache?.set(node.height, node.index, hash);
    return hash;
  });
  let next = 0;
  return hashes.map((hash) => hash ?? computed[next++]!);
}

/** The tile holding a node's hashes in a tree of `size` leaves, and where in it they are. */
function locate(node: Node, size: number): { key: TileKey; offset: number; count: number } {
  const level = Math.floor(node.height / TILE_HEIGHT);
  const count = 2 ** (node.height % TILE_HEIGHT);
  const first = node.index * count;
  const tileIndex = Math.floor(first / TILE_WIDTH);
  const key = tileKeyAt(level, tileIndex, size);
  const offset = first - tileIndex * TILE_WIDTH;
  if (offset + count > key.width) throw new RangeError('subtree outside the tree');
  return { key, offset, count };
}

/** Reads the distinct tiles among `keys` (one reader call) and checks their lengths. */
async function readTiles(keys: TileKey[], read: TileReader): Promise<Map<string, Uint8Array>> {
  const distinct = new Map<string, TileKey>();
  for (const key of keys) distinct.set(tilePath(key), key);
  const tiles = new Map<string, Uint8Array>();
  if (distinct.size === 0) return tiles;
  const wanted = [...distinct.values()];
  const data = await read(wanted);
  if (data.length !== wanted.length) throw new TileReadError('tile reader returned the wrong number of tiles');
  wanted.forEach((key, i) => {
    const bytes = data[i];
    const length = key.width * HASH_SIZE;
    if (!(bytes instanceof Uint8Array) || bytes.length < length) {
      throw new TileReadError(`tile ${tilePath(key)} is shorter than its width`);
    }
    tiles.set(tilePath(key), bytes.subarray(0, key.width === TILE_WIDTH && bytes.length >= FULL_TILE_BYTES ? FULL_TILE_BYTES : length));
  });
  return tiles;
}

/** The node over hashes [offset, offset + count) of a full tile, from its interior when it carries one. */
function storedInterior(data: Uint8Array, offset: number, count: number): Uint8Array | undefined {
  if (count === 1 || data.length !== FULL_TILE_BYTES) return undefined;
  const at = (TILE_WIDTH + TILE_WIDTH - (2 * TILE_WIDTH) / count + offset / count) * HASH_SIZE;
  // A copy: a proof must not hand out a view into stored (and cached) tile bytes.
  return new Uint8Array(data.subarray(at, at + HASH_SIZE));
}

function splitHashes(data: Uint8Array): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += HASH_SIZE) hashes.push(data.subarray(at, at + HASH_SIZE));
  return hashes;
}

/** Root of a complete tree over a power-of-two number of hashes. */
function merkleRoot(hashes: Uint8Array[]): Uint8Array {
  let level = hashes;
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(hashChildren(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}

/** Bytes [from, from + into.length) of `first` followed by `second`, copied into `into`: no joined copy of the two. */
function copySpan(first: Uint8Array, second: Uint8Array, from: number, into: Uint8Array): void {
  const fromFirst = Math.max(0, Math.min(first.length - from, into.length));
  if (fromFirst > 0) into.set(first.subarray(from, from + fromFirst), 0);
  const start = from + fromFirst - first.length;
  if (fromFirst < into.length) into.set(second.subarray(start, start + into.length - fromFirst), fromFirst);
}

/** MTH(D[0:size]) (RFC 9162 §2.1.1); the empty tree's root is SHA-256 of nothing. */
export async function treeHash(size: number, read: TileReader, cache?: SubtreeCache): Promise<Uint8Array> {
  assertSize(size, 'size');
  if (size === 0) return EMPTY_ROOT;
  const [root] = await rangeHashes([[0, size]], size, read, cache);
  return root!;
}

export async function leafHashAt(index: number, size: number, read: TileReader): Promise<Uint8Array> {
  assertIndex(index, size);
  const [hash] = await nodeHashes([{ height: 0, index }], size, read, undefined);
  return hash!;
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf side first: the ranges whose MTHs form the proof. */
function inclusionRanges(m: number, start: number, end: number, out: [number, number][]): void {
  if (end - start <= 1) return;
  const k = splitPoint(end - start);
  if (m < start + k) {
    inclusionRanges(m, start, start + k, out);
    out.push([start + k, end]);
  } else {
    inclusionRanges(m, start + k, end, out);
    out.push([start, start + k]);
  }
}

export async function proveInclusion(
  index: number,
  size: number,
  read: TileReader,
  cache?: SubtreeCache,
): Promise<Uint8Array[]> {
  assertIndex(index, size);
  const ranges: [number, number][] = [];
  inclusionRanges(index, 0, size, ranges);
  return rangeHashes(ranges, size, read, cache);
}

/** SUBPROOF(m, D[start:end], whole) of RFC 9162 §2.1.4.1; `m` counts from `start`. */
function consistencyRanges(m: number, start: number, end: number, whole: boolean, out: [number, number][]): void {
  if (m === end - start) {
    if (!whole) out.push([start, end]);
    return;
  }
  const k = splitPoint(end - start);
  if (m <= k) {
    consistencyRanges(m, start, start + k, whole, out);
    out.push([start + k, end]);
  } else {
    consistencyRanges(m - k, start + k, end, false, out);
    out.push([start, start + k]);
  }
}

/** PROOF(from, D[to]); empty when from is 0 or equals to (nothing to prove). */
export async function proveConsistency(
  from: number,
  to: number,
  read: TileReader,
  cache?: SubtreeCache,
): Promise<Uint8Array[]> {
  assertSize(from, 'from');
  assertSize(to, 'to');
  if (from > to) throw new RangeError('from must not exceed to');
  if (from === 0 || from === to) return [];
  const ranges: [number, number][] = [];
  consistencyRanges(from, 0, to, true, ranges);
  return rangeHashes(ranges, to, read, cache);
}

/**
 * Appends leaf hashes (packed, 32 bytes each) to a tree of `size` leaves stored as tiles. Reads
 * only the right-edge partial tile of each level that grows, fills it, and carries the root of
 * every tile that becomes full one level up (tlog-tiles: a level-L+1 hash is the MTH of a full
 * level-L tile). Returns every tile that is new or grew, with its width in the new tree, and the
 * new root. Each level is hashed from and into packed bytes: no object per hash.
 */
export async function appendLeaves(
  size: number,
  leafHashes: Uint8Array,
  read: TileReader,
  cache?: SubtreeCache,
): Promise<{ size: number; root: Uint8Array; tiles: GrownTile[] }> {
  assertSize(size, 'size');
  if (leafHashes.length % HASH_SIZE !== 0) throw new RangeError('leaf hashes must be whole 32-byte hashes');
  const newSize = size + leafHashes.length / HASH_SIZE;
  assertSize(newSize, 'new size');
  const edges = await readGrowingEdges(size, newSize, read);
  const tiles: GrownTile[] = [];
  let incoming = leafHashes;
  for (let level = 0; incoming.length > 0; level++) {
    let index = Math.floor(hashesAtLevel(size, level) / TILE_WIDTH);
    // The level's row from the start of its first growing tile: the stored edge, then the new
    // hashes. Each tile is copied out of the two once, into its own buffer.
    const edge = edges.get(level) ?? EMPTY;
    const rowLength = edge.length + incoming.length;
    const full = Math.floor(rowLength / TILE_BYTES);
    const carried = new Uint8Array(full * HASH_SIZE);
    for (let t = 0; t < full; t++) {
      const bytes = new Uint8Array(TILE_BYTES);
      copySpan(edge, incoming, t * TILE_BYTES, bytes);
      hashTile(bytes, SCRATCH_INTERIOR, carried, t * HASH_SIZE);
      tiles.push({ key: { level, index: index++, width: TILE_WIDTH }, bytes });
    }
    if (rowLength > full * TILE_BYTES) {
      const bytes = new Uint8Array(rowLength - full * TILE_BYTES);
      copySpan(edge, incoming, full * TILE_BYTES, bytes);
      tiles.push({ key: { level, index, width: bytes.length / HASH_SIZE }, bytes });
    }
    incoming = carried;
  }
  const written = new Map(tiles.map((t) => [tilePath(t.key), t.bytes]));
  const overlay: TileReader = async (keys) => {
    const missing = keys.filter((k) => !written.has(tilePath(k)));
    const fetched = missing.length > 0 ? await read(missing) : [];
    const byPath = new Map(missing.map((k, i) => [tilePath(k), fetched[i]!]));
    return keys.map((k) => written.get(tilePath(k)) ?? byPath.get(tilePath(k))!);
  };
  return { size: newSize, root: await treeHash(newSize, overlay, cache), tiles };
}

/**
 * A full tile's 256 packed hashes followed by its 254 interior nodes (TileInterior order), the
 * form in which a reader may hand a full tile to proofs so they read those nodes instead of
 * rehashing them (TileCache keeps full tiles this way).
 */
export function withInterior(hashes: Uint8Array): Uint8Array {
  if (hashes.length !== TILE_BYTES) throw new RangeError('a full tile is 256 hashes of 32 bytes');
  const tile = new Uint8Array(FULL_TILE_BYTES);
  tile.set(hashes, 0);
  hashTile(hashes, tile.subarray(TILE_BYTES), new Uint8Array(HASH_SIZE), 0);
  return tile;
}

/**
 * Hashes a full tile's 256 packed hashes up to its root, written into `root` at `rootAt`; the
 * 254 nodes between go into `interior` in TileInterior order (sub-level 1 first).
 */
function hashTile(data: Uint8Array, interior: Uint8Array, root: Uint8Array, rootAt: number): void {
  let from = data;
  let fromAt = 0;
  let to = 0;
  for (let count = TILE_WIDTH; count > 2; count /= 2) {
    for (let i = 0; i < count; i += 2) hashPairInto(from, fromAt + i * HASH_SIZE, interior, to + (i / 2) * HASH_SIZE);
    from = interior;
    fromAt = to;
    to += (count / 2) * HASH_SIZE;
  }
  hashPairInto(from, fromAt, root, rootAt);
}

/** The packed hashes already in the old right-edge partial tile of every level that gains hashes. */
async function readGrowingEdges(size: number, newSize: number, read: TileReader): Promise<Map<number, Uint8Array>> {
  const keys: TileKey[] = [];
  for (let level = 0; hashesAtLevel(newSize, level) > hashesAtLevel(size, level); level++) {
    const count = hashesAtLevel(size, level);
    if (count % TILE_WIDTH > 0) keys.push({ level, index: Math.floor(count / TILE_WIDTH), width: count % TILE_WIDTH });
  }
  const tiles = await readTiles(keys, read);
  return new Map(keys.map((key) => [key.level, tiles.get(tilePath(key))!.subarray(0, key.width * HASH_SIZE)]));
}

function assertIndex(index: number, size: number): void {
  assertSize(index, 'index');
  assertSize(size, 'size');
  if (index >= size) throw new RangeError('index must be below size');
}
