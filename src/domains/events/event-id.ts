import { hash } from 'node:crypto';
import { jcs } from '../../aitp/index.js';

/** Any version and variant, case-insensitive (contract README §Bodies, EVENTS.md §4.1). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/**
 * The first 16 bytes of a hex digest as a lower-case UUID with the RFC 9562 version nibble
 * (byte 6) and variant bits (byte 8, `10xx`) set.
 */
export function uuidFromDigest(hexDigest: string, version: number): string {
  const variant = ((Number.parseInt(hexDigest[16]!, 16) & 0x3) | 0x8).toString(16);
  return (
    `${hexDigest.slice(0, 8)}-${hexDigest.slice(8, 12)}-${version.toString(16)}${hexDigest.slice(13, 16)}-` +
    `${variant}${hexDigest.slice(17, 20)}-${hexDigest.slice(20, 32)}`
  );
}

/**
 * The content-derived event id (EVENTS.md §3): UUIDv8 from
 * SHA-256("aitp-event:v1" 0x00 producer 0x00 JCS(rawEntry)). The producer is part of the input so
 * the same raw event sent under two API keys stays two events. (One-shot `hash`: ingest derives
 * an id per event, and it is cheaper than createHash for inputs this small.)
 */
export function deriveEventId(producer: string, rawEntry: unknown): string {
  return uuidFromDigest(hash('sha256', `aitp-event:v1\u0000${producer}\u0000${jcs(rawEntry)}`, 'hex'), 8);
}

/** The entry's own id when it is a UUID (lower-cased), else the derived one (EVENTS.md §3). */
export function eventIdFor(producer: string, rawEntry: Record<string, unknown>): string {
  const own = rawEntry['id'];
  return isUuid(own) ? own.toLowerCase() : deriveEventId(producer, rawEntry);
}
