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

export function encodeEntry(ref: EntryRef, into: Buffer, at: number): void {
  into[at] = KIND_CODES[ref.kind];
  into.write(ref.id.replaceAll('-', ''), at + 1, 16, 'hex');
  into.writeBigInt64BE(BigInt(ref.createdMs), at + 17);
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
 * The bundles that change when `refs` are appended at leaf `size`: `partial` is the stored
 * content of the last, partly filled bundle (empty when size is a multiple of 256).
 */
export function appendEntries(size: number, partial: Buffer, refs: readonly EntryRef[]): Array<{ bundleIndex: number; entries: Buffer }> {
  const out: Array<{ bundleIndex: number; entries: Buffer }> = [];
  let next = 0;
  let leaf = size;
  while (next < refs.length) {
    const bundleIndex = Math.floor(leaf / BUNDLE_WIDTH);
    const slot = leaf % BUNDLE_WIDTH;
    const take = Math.min(BUNDLE_WIDTH - slot, refs.length - next);
    const entries = Buffer.alloc((slot + take) * ENTRY_BYTES);
    if (slot > 0) partial.copy(entries, 0, 0, slot * ENTRY_BYTES);
    for (let i = 0; i < take; i++) encodeEntry(refs[next + i]!, entries, (slot + i) * ENTRY_BYTES);
    out.push({ bundleIndex, entries });
    next += take;
    leaf += take;
  }
  return out;
}
