import { sha256, sha256Hex } from './hashing.js';

// A credential the server only compares, never uses as a key (an API key, METRICS_TOKEN), may
// be configured as `sha256:<64 hex>`, the SHA-256 of the raw value. The server needs only the
// digest, so an environment, a secret store or a process listing that leaks it gives no usable
// credential. Either form of one credential yields the same digest, so the same fingerprint.

export const DIGEST_PREFIX = 'sha256:';
const DIGEST_ENTRY = /^sha256:[0-9a-f]{64}$/;

/** Whether an entry is written in the digest form (prefix case-insensitive); it may still be malformed. */
export function claimsDigestForm(entry: string): boolean {
  return entry.slice(0, DIGEST_PREFIX.length).toLowerCase() === DIGEST_PREFIX;
}

/** A well-formed digest entry lower-cased, or undefined. */
export function normalizeDigestEntry(entry: string): string | undefined {
  const lower = entry.toLowerCase();
  return DIGEST_ENTRY.test(lower) ? lower : undefined;
}

/** The SHA-256 a presented credential must hash to: the digest entry decoded, or the raw value hashed. */
export function credentialDigest(entry: string): Buffer {
  const digest = normalizeDigestEntry(entry);
  return digest === undefined ? sha256(entry) : Buffer.from(digest.slice(DIGEST_PREFIX.length), 'hex');
}

/** The `sha256:<64 hex>` entry that configures a raw credential without holding it. */
export function digestEntryOf(raw: string): string {
  return `${DIGEST_PREFIX}${sha256Hex(raw)}`;
}

/** Caller fingerprint `apikey:<first 16 hex of SHA-256>` (contract README §Auth classes). */
export function apiKeyFingerprint(entry: string): string {
  return `apikey:${credentialDigest(entry).toString('hex').slice(0, 16)}`;
}

/** A non-secret name for a secret: the first 8 hex of the SHA-256 of its material. */
export function keyIdOf(material: string | Uint8Array): string {
  return sha256Hex(material).slice(0, 8);
}
