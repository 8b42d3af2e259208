export { EMPTY_ROOT, HASH_SIZE, hashChildren, hashLeaf, hashLeafText, hashLeafTextLatin1 } from './hash.js';
export {
  SubtreeCache, TILE_HEIGHT, TILE_INTERIOR_HASHES, TILE_WIDTH, TileReadError, appendLeaves, leafHashAt, parseTilePath, proveConsistency,
  proveInclusion, tilePath, tilesForSize, treeHash, withInterior, type GrownTile, type TileKey, type TileReader,
} from './tiles.js';
export { TileCache } from './tile-cache.js';
export { verifyConsistency, verifyInclusion } from './verify.js';
export { NoteError, noteKeyId, openNote, parseVerifierKey, signNote, verifierKey, type NoteErrorReason } from './note.js';
export { CheckpointError, formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
export { decodeBase64, encodeBase64 } from './base64.js';
