import { createHash, timingSafeEqual } from 'node:crypto';

export function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Compares `candidate` against every secret's digest in constant time, with no early exit, so
 * the time taken says nothing about which (or whether a) key matched. Returns the index or -1.
 */
export function matchDigest(candidate: string, digests: readonly Buffer[]): number {
  const digest = sha256(candidate);
  let found = -1;
  for (let i = 0; i < digests.length; i++) {
    if (timingSafeEqual(digest, digests[i]!) && found === -1) found = i;
  }
  return found;
}
