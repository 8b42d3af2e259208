import { Buffer } from 'node:buffer';

// Standard, padded base64 (RFC 4648 §4), as signed-note and tlog-checkpoint use it.

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

/** Decodes canonical base64 only; null for anything else (Buffer alone skips bad characters). */
export function decodeBase64(text: string): Uint8Array | null {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return null;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
