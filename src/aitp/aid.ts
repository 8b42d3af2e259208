import { Buffer } from 'node:buffer';
import { p256 } from '@noble/curves/nist.js';
import { Point as EdPoint } from '@noble/ed25519';
import { decodeB64u, encodeB64u } from './base64url.js';
import { ed25519PublicKey } from './signature.js';

// Agent IDs (SPEC §2): `aid:pubkey:` + the bare b64u of the raw public key. No multibase,
// no multicodec, no DID syntax.

/** The AID grammar the schemas use (SPEC §2.1). */
export const AID_PATTERN = /^aid:pubkey:([A-Za-z0-9_-]{43}|ed25519:[A-Za-z0-9_-]{43}|p256:[A-Za-z0-9_-]{44})$/;

const LEGACY_PREFIX = 'aid:pubkey:';
const ED25519_PREFIX = 'aid:pubkey:ed25519:';
const P256_PREFIX = 'aid:pubkey:p256:';
const ED25519_KEY_BYTES = 32;
const P256_KEY_BYTES = 33;
const SEED_HEX = /^[0-9a-fA-F]{64}$/;

export type AidAlgorithm = 'ed25519' | 'p256';

/** The verifying key an AID names: 32 raw Ed25519 bytes or a 33-byte SEC1 compressed P-256 point. */
export interface AidKey {
  alg: AidAlgorithm;
  publicKey: Uint8Array;
}

/** Why an AID does not name a usable key. */
export type AidFailureReason = 'grammar' | 'encoding' | 'invalid_point' | 'small_order';

export type AidResolution = ({ ok: true } & AidKey) | { ok: false; reason: AidFailureReason };

/** True when `text` matches the AID grammar; says nothing about the key bytes. */
export function isAid(text: string): boolean {
  return AID_PATTERN.test(text);
}

/** The legacy, untagged AID of a raw Ed25519 public key (what the SDK and all KATs emit). */
export function aidFromEd25519PublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== ED25519_KEY_BYTES) throw new RangeError('an Ed25519 public key is 32 bytes');
  return LEGACY_PREFIX + encodeB64u(publicKey);
}

/** SPEC §2.2: the AID of an RFC 8032 seed, in the legacy untagged form. */
export function deriveAid(seed: Uint8Array): string {
  return aidFromEd25519PublicKey(ed25519PublicKey(seed));
}

/** SPEC §1.2: exactly 64 hex characters, else null (Buffer's hex decoder truncates silently). */
export function parseSeedHex(hex: string): Uint8Array | null {
  return SEED_HEX.test(hex) ? Uint8Array.from(Buffer.from(hex, 'hex')) : null;
}

/**
 * SPEC §2.3: resolve an AID to its verifying key without any network access. Ed25519 keys
 * must be canonical, on the curve and not of small order (aitp-rs rejects weak keys);
 * P-256 keys must be compressed points that decompress.
 */
export function resolveAid(aid: string): AidResolution {
  if (aid.startsWith(ED25519_PREFIX)) return resolveEd25519(aid.slice(ED25519_PREFIX.length));
  if (aid.startsWith(P256_PREFIX)) return resolveP256(aid.slice(P256_PREFIX.length));
  if (aid.startsWith(LEGACY_PREFIX)) {
    const id = aid.slice(LEGACY_PREFIX.length);
    if (!id.includes(':')) return resolveEd25519(id);
  }
  return { ok: false, reason: 'grammar' };
}

function resolveEd25519(id: string): AidResolution {
  const publicKey = decodeB64u(id, ED25519_KEY_BYTES);
  if (publicKey === null) return { ok: false, reason: 'encoding' };
  let point: EdPoint;
  try {
    // zip215 = false: strict RFC 8032 decoding (canonical y).
    point = EdPoint.fromBytes(publicKey, false);
  } catch {
    return { ok: false, reason: 'invalid_point' };
  }
  if (point.isSmallOrder()) return { ok: false, reason: 'small_order' };
  return { ok: true, alg: 'ed25519', publicKey };
}

function resolveP256(id: string): AidResolution {
  const publicKey = decodeB64u(id, P256_KEY_BYTES);
  if (publicKey === null) return { ok: false, reason: 'encoding' };
  if (publicKey[0] !== 0x02 && publicKey[0] !== 0x03) return { ok: false, reason: 'invalid_point' };
  try {
    p256.Point.fromBytes(publicKey);
  } catch {
    return { ok: false, reason: 'invalid_point' };
  }
  return { ok: true, alg: 'p256', publicKey };
}
