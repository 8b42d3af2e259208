// C2SP tlog-tiles §"Merkle Tree": the tree is stored as tiles of height 8. The tile at level L,
// index N holds up to 256 consecutive hashes of tree level 8·L, each the root of a complete
// subtree of 256^L leaves. Only the right edge of each level is partial.

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/** A tile of a tree of some size; `width` 1..255 is a partial tile, 256 a full one. */
export interface TileKey {
  level: number;
  index: number;
  width: number;
}

// tlog-tiles: <L> is 0..63 with no leading zeroes.
const MAX_LEVEL = 63;

/** Number of hashes stored at tile level `level` for a tree of `size` leaves: floor(size / 256^level). */
export function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The path of a tile below `<prefix>/tile/`, e.g. `0/x001/234.p/7`: <N> in zero-padded 3-digit
 * groups, every group but the last prefixed with `x`; `.p/<W>` only for partial tiles.
 */
export function tilePath(key: TileKey): string {
  assertTileKey(key);
  const groups: string[] = [];
  let n = key.index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  const index = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  const suffix = key.width === TILE_WIDTH ? '' : `.p/${key.width}`;
  return `${key.level}/${index}${suffix}`;
}

// Exactly the canonical form tilePath emits: no leading zero in <L> or <W>, no leading all-zero
// group in <N>, at most 6 groups (safe integers), nothing after the width.
const TILE_PATH = /^(0|[1-9][0-9]?)\/((?:x[0-9]{3}\/){0,5})([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/** Parses a tile path (below `tile/`); null for any non-canonical or out-of-range form. */
export function parseTilePath(path: string): TileKey | null {
  const m = TILE_PATH.exec(path);
  if (m === null) return null;
  const [, levelText, prefix, last, widthText] = m;
  const level = Number(levelText);
  const groups = prefix === undefined || prefix === '' ? [] : prefix.slice(0, -1).split('/');
  if (groups[0] === 'x000') return null;
  const index = Number([...groups.map((g) => g.slice(1)), last].join(''));
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (level > MAX_LEVEL || (widthText !== undefined && width >= TILE_WIDTH) || !Number.isSafeInteger(index)) return null;
  return { level, index, width };
}

/** Every tile, full and partial, at every level, that describes a tree of `size` leaves. */
export function tilesForSize(size: number): TileKey[] {
  assertSize(size, 'size');
  const keys: TileKey[] = [];
  for (let level = 0; hashesAtLevel(size, level) > 0; level++) {
    const count = hashesAtLevel(size, level);
    const full = Math.floor(count / TILE_WIDTH);
    for (let index = 0; index < full; index++) keys.push({ level, index, width: TILE_WIDTH });
    if (count % TILE_WIDTH > 0) keys.push({ level, index: full, width: count % TILE_WIDTH });
  }
  return keys;
}

/** The key of tile (level, index) as it is in a tree of `size` leaves (its width there). */
export function tileKeyAt(level: number, index: number, size: number): TileKey {
  const width = Math.min(TILE_WIDTH, hashesAtLevel(size, level) - index * TILE_WIDTH);
  if (width <= 0) throw new RangeError(`tile ${level}/${index} is not part of a tree of size ${size}`);
  return { level, index, width };
}

export function assertSize(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer`);
  }
}

function assertTileKey(key: TileKey): void {
  assertSize(key.index, 'tile index');
  if (!Number.isInteger(key.level) || key.level < 0 || key.level > MAX_LEVEL) {
    throw new RangeError('tile level must be an integer in 0..63');
  }
  if (!Number.isInteger(key.width) || key.width < 1 || key.width > TILE_WIDTH) {
    throw new RangeError('tile width must be an integer in 1..256');
  }
}
