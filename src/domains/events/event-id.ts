import { hash } from 'node:crypto';
import { jcs, jcsWithMember } from '../../aitp/index.js';

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
  return idFromCanonical(producer, jcs(rawEntry));
}

const idFromCanonical = (producer: string, entryJcs: string): string =>
  uuidFromDigest(hash('sha256', `aitp-event:v1\u0000${producer}\u0000${entryJcs}`, 'hex'), 8);

/**
 * The entry's own id when it is a UUID (lower-cased), else the derived one (EVENTS.md §3); and
 * the JCS text of the event's payload when deriving the id canonicalized it on the way: the
 * payload is the entry's `payload` member, or with `payloadIsEntry` the entry itself (EVENTS.md
 * §2.2). The audit log hashes it into the event's leaf.
 */
export function eventIdAndPayloadJcs(producer: string, rawEntry: Record<string, unknown>, payloadIsEntry: boolean): { id: string; payloadJcs?: string } {
  const own = rawEntry['id'];
  if (isUuid(own)) return { id: own.toLowerCase() };
  const { text, member } = jcsWithMember(rawEntry, 'payload');
  const id = idFromCanonical(producer, text);
  const payloadJcs = payloadIsEntry ? text : member;
  return payloadJcs === undefined ? { id } : { id, payloadJcs };
}
