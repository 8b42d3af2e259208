import type { LeafKind } from './leaves.js';

// Which record each leaf is, kept compactly like tlog-tiles entry bundles: one row per 256
// leaves, ENTRY_BYTES per leaf (kind, the record's UUID, its created_at in epoch ms). The
// created_at lets a missing record be told apart: swept by retention, or deleted otherwise.

export const BUNDLE_WIDTH = 256;
export const ENTRY_BYTES = 25;

const KIND_CODES: Record<LeafKind, number> = { event: 1, admin: 2 };

export interface EntryRef {
  kind: LeafKind;
  id: string;
  createdMs: number;
}

/** The value of one hex digit's character code (0–9, a–f, A–F); -1 for anything else. */
function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** The 16 bytes of a UUID's text (hyphens anywhere are skipped), written at `at`. */
function writeUuid(id: string, into: Buffer, at: number): void {
  let out = at;
  for (let i = 0; i < id.length && out < at + 16; i++) {
    const high = nibble(id.charCodeAt(i));
    if (high < 0) continue;
    const low = nibble(id.charCodeAt(++i));
    if (low < 0) throw new RangeError(`not a UUID: ${id}`);
    into[out++] = (high << 4) | low;
  }
  if (out !== at + 16) throw new RangeError(`not a UUID: ${id}`);
}

/** One entry written at byte `at` (arguments, not an EntryRef: no object per leaf). */
export function encodeEntry(kind: LeafKind, id: string, createdMs: number, into: Buffer, at: number): void {
  into[at] = KIND_CODES[kind];
  writeUuid(id, into, at + 1);
  // The 64-bit two's complement of the epoch ms, as two 32-bit halves (no BigInt per entry).
  into.writeInt32BE(Math.floor(createdMs / 2 ** 32), at + 17);
  into.writeUInt32BE(createdMs >>> 0, at + 21);
}

export function decodeEntry(bundle: Buffer, slot: number): EntryRef | undefined {
  const at = slot * ENTRY_BYTES;
  if (at + ENTRY_BYTES > bundle.length) return undefined;
  const kind: LeafKind | undefined = bundle[at] === 1 ? 'event' : bundle[at] === 2 ? 'admin' : undefined;
  if (kind === undefined) return undefined;
  const hex = bundle.toString('hex', at + 1, at + 17);
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { kind, id, createdMs: Number(bundle.readBigInt64BE(at + 17)) };
}

/**
 * The bundles that change when `entries` (packed, ENTRY_BYTES each) are appended at leaf `size`:
 * `partial` is the stored content of the last, partly filled bundle (empty when size is a
 * multiple of 256). Each bundle is one buffer, copied out of the two once.
 */
export function appendEntries(size: number, partial: Buffer, entries: Buffer): Array<{ bundleIndex: number; entries: Buffer }> {
  if (entries.length % ENTRY_BYTES !== 0) throw new RangeError('entries must be whole entries');
  const out: Array<{ bundleIndex: number; entries: Buffer }> = [];
  let from = 0;
  let leaf = size;
  while (from < entries.length) {
    const slot = leaf % BUNDLE_WIDTH;
    const take = Math.min((BUNDLE_WIDTH - slot) * ENTRY_BYTES, entries.length - from);
    const bundle = Buffer.allocUnsafe(slot * ENTRY_BYTES + take);
    if (slot > 0) partial.copy(bundle, 0, 0, slot * ENTRY_BYTES);
    entries.copy(bundle, slot * ENTRY_BYTES, from, from + take);
    out.push({ bundleIndex: Math.floor(leaf / BUNDLE_WIDTH), entries: bundle });
    from += take;
    leaf += take / ENTRY_BYTES;
  }
  return out;
}
