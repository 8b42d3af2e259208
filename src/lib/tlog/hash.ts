import { hash } from 'node:crypto';

// RFC 9162 §2.1.1: SHA-256 with domain separation between leaves (0x00) and interior nodes
// (0x01), so no leaf can be passed off as an interior node (second-preimage resistance).
// Node's one-shot digest rather than a JS one: proofs from height-8 tiles hash hundreds of
// nodes each, and it measured about twice as fast as @noble/hashes on 65-byte inputs.
// The digest comes back as a 32-character latin1 ('binary') string and is copied into a slice
// of Node's shared Buffer pool: a 'buffer' result is a fresh ArrayBuffer outside V8's heap per
// call, which measured three times the cost of the digest itself (1.1 µs against 0.35 µs for a
// node). A hash kept long-term must not stay a slice of the pool, which it would keep alive
// (SubtreeCache keeps the string; the audit log copies leaf hashes into packed buffers, and a
// tile is hashed straight into its own bytes: hashPairInto).

/** SHA-256 of `data` (a string as UTF-8) as a 32-character latin1 string. */
const sha256Latin1 = (data: Uint8Array | string): string => hash('sha256', data, 'binary');
/** The bytes of a latin1 digest string. */
export const latin1Bytes = (digest: string): Uint8Array => Buffer.from(digest, 'latin1');
const sha256 = (data: Uint8Array): Uint8Array => latin1Bytes(sha256Latin1(data));

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** The Merkle Tree Hash of an empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(sha256(new Uint8Array(0)));

export function hashLeaf(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return sha256(input);
}

/**
 * hashLeaf of the UTF-8 bytes of `text`. U+0000 encodes as the single byte 0x00, the leaf
 * prefix, so one string and one native call do it (a hash object costs a third more).
 */
export function hashLeafText(text: string): Uint8Array {
  return latin1Bytes(hashLeafTextLatin1(text));
}

/** hashLeafText as a latin1 string (latin1Bytes turns it into bytes): what a cache keeps. */
export function hashLeafTextLatin1(text: string): string {
  return sha256Latin1(`\u0000${text}`);
}

// One input buffer for every node hash (hashing is synchronous, so it is never shared): a tree
// append hashes about one node per leaf, and a fresh 65-byte array per node lives outside V8's
// heap, one small allocation each.
const NODE_INPUT = new Uint8Array(1 + 2 * HASH_SIZE);
NODE_INPUT[0] = NODE_PREFIX;

export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    const input = new Uint8Array(1 + left.length + right.length);
    input[0] = NODE_PREFIX;
    input.set(left, 1);
    input.set(right, 1 + left.length);
    return sha256(input);
  }
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return sha256(NODE_INPUT);
}

/**
 * hashChildren of the two hashes at `from[at .. at + 64)`, written into `into` at `intoAt`: a tile
 * is hashed from and into packed bytes, with no array object per node.
 */
export function hashPairInto(from: Uint8Array, at: number, into: Uint8Array, intoAt: number): void {
  for (let i = 0; i < 2 * HASH_SIZE; i++) NODE_INPUT[1 + i] = from[at + i]!;
  const digest = sha256Latin1(NODE_INPUT);
  for (let i = 0; i < HASH_SIZE; i++) into[intoAt + i] = digest.charCodeAt(i);
}

/** True when `value` is a byte array of exactly one hash. */
export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

/** Byte equality of two public values (hashes, roots); not for secrets. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
