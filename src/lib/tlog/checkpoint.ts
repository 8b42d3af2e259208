import { HASH_SIZE } from './hash.js';
import { decodeBase64, encodeBase64 } from './base64.js';

// C2SP tlog-checkpoint §"Note text": origin, tree size, base64 root hash, then optional
// non-empty extension lines, each line ending in a newline.

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

// "tree size, the ASCII decimal representation ... with no leading zeroes".
const SIZE = /^(0|[1-9][0-9]*)$/;

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes('\n')) throw new CheckpointError('origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new CheckpointError('size must be a non-negative integer');
  if (c.root.length !== HASH_SIZE) throw new CheckpointError('root must be 32 bytes');
  return `${c.origin}\n${c.size}\n${encodeBase64(c.root)}\n`;
}

/** Parses checkpoint note text (as returned by openNote); extension lines are accepted and dropped. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('checkpoint must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === undefined || origin.length === 0) throw new CheckpointError('checkpoint origin is empty');
  if (sizeText === undefined || !SIZE.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new CheckpointError('checkpoint size is not a decimal tree size');
  }
  const root = rootText === undefined ? null : decodeBase64(rootText);
  if (root === null || root.length !== HASH_SIZE) throw new CheckpointError('checkpoint root is not a base64 SHA-256 hash');
  if (extensions.some((line) => line.length === 0)) throw new CheckpointError('checkpoint extension lines must be non-empty');
  return { origin, size: Number(sizeText), root };
}
