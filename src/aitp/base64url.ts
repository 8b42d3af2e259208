import { Buffer } from 'node:buffer';

// SPEC §1.1: unpadded base64url (RFC 4648 §5) for every binary field.

const B64U_ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url of `bytes` (no copy of the input). */
export function encodeB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Number of unpadded base64url characters that encode `byteLength` bytes. */
export function b64uLength(byteLength: number): number {
  return Math.ceil((byteLength * 4) / 3);
}

/**
 * Strict decode (SPEC §1.1): alphabet only (no `=`, `+`, `/`, whitespace), the exact length
 * for `byteLength` bytes, and a canonical encoding (re-encoding must give the input back, which
 * rejects non-zero trailing bits). Node's own decoder silently skips bad characters, hence the
 * checks. Returns null when any rule fails.
 */
export function decodeB64u(text: string, byteLength: number): Uint8Array | null {
  if (text.length !== b64uLength(byteLength) || !B64U_ALPHABET.test(text)) return null;
  const decoded = Buffer.from(text, 'base64url');
  if (decoded.byteLength !== byteLength || decoded.toString('base64url') !== text) return null;
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}
