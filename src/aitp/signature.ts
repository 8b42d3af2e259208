import * as ed from '@noble/ed25519';
import { p256 } from '@noble/curves/nist.js';
import { sha512 } from '@noble/hashes/sha2.js';
import type { AidAlgorithm, AidKey } from './aid.js';
import { decodeB64u, encodeB64u } from './base64url.js';
import { jcsSha256 } from './jcs.js';

// The JCS signing profile (SPEC §4): the signed message is the 32-byte SHA256(JCS(body)).
// Ed25519 signs those 32 bytes as is (not Ed25519ph). P-256 follows aitp-rs (SPEC §2.4):
// ECDSA-P256-SHA256 over the 32 bytes, so the curve sees SHA256(SHA256(JCS)), low-S only.

// noble v3 ships no synchronous SHA-512; this is the one global setup the core performs.
ed.hashes.sha512 = sha512;

export const SIGNATURE_BYTES = 64;
const SEED_BYTES = 32;
const TAGS: Readonly<Record<string, AidAlgorithm>> = { ed25519: 'ed25519', p256: 'p256' };

/** A signature field split into its algorithm and its 64 raw bytes. */
export interface ParsedSignature {
  alg: AidAlgorithm;
  bytes: Uint8Array;
}

function assertSeed(seed: Uint8Array): void {
  if (seed.length !== SEED_BYTES) throw new RangeError('an Ed25519 seed is 32 bytes');
}

/** RFC 8032 public key of a 32-byte seed (SPEC §2.2). */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  assertSeed(seed);
  return ed.getPublicKey(seed);
}

/** Ed25519 over a 32-byte digest, emitted untagged as the SDK does (86 b64u chars). */
export function signDigest(seed: Uint8Array, digest: Uint8Array): string {
  assertSeed(seed);
  return encodeB64u(ed.sign(digest, seed));
}

/** JCS-profile signature of `body` (SPEC §4). */
export function signJcs(seed: Uint8Array, body: unknown): string {
  return signDigest(seed, jcsSha256(body));
}

/**
 * SPEC §4 "accepted on input": untagged (Ed25519), `ed25519.` or `p256.`, split at the first
 * dot, then exactly 86 strict b64u characters. Null for an unknown tag or a bad body.
 */
export function parseSignature(text: string): ParsedSignature | null {
  const dot = text.indexOf('.');
  const tag = dot === -1 ? 'ed25519' : text.slice(0, dot);
  const alg = Object.hasOwn(TAGS, tag) ? TAGS[tag] : undefined;
  if (alg === undefined) return null;
  const bytes = decodeB64u(dot === -1 ? text : text.slice(dot + 1), SIGNATURE_BYTES);
  return bytes === null ? null : { alg, bytes };
}

/** Verifies a parsed signature over a 32-byte digest; the tag must match the key's algorithm. */
export function verifyDigestSignature(key: AidKey, digest: Uint8Array, signature: ParsedSignature): boolean {
  if (signature.alg !== key.alg) return false;
  if (key.alg === 'ed25519') {
    // zip215: false = strict RFC 8032 verification, close to aitp-rs's verify_strict.
    return ed.verify(signature.bytes, digest, key.publicKey, { zip215: false });
  }
  return p256.verify(signature.bytes, digest, key.publicKey, { prehash: true, lowS: true, format: 'compact' });
}

/** Parses `signature` and verifies it over SHA256(JCS(body)) under `key`. */
export function verifyJcsSignature(key: AidKey, body: unknown, signature: string): boolean {
  const parsed = parseSignature(signature);
  return parsed !== null && verifyDigestSignature(key, jcsSha256(body), parsed);
}
