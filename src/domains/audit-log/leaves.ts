import { jcsBytes } from '../../aitp/index.js';
import type { TextRow } from '../../db/raw-query.js';
import { hashLeaf } from '../../lib/tlog/index.js';
import { toAuditEntry, type AuditRow } from '../admin-audit/index.js';
import { eventJson } from '../events/index.js';

export type LeafKind = 'admin' | 'event';

/** A record as a leaf: the API view of the record plus `kind`, and RFC 9162 leaf hash of its JCS. */
export interface Leaf {
  kind: LeafKind;
  id: string;
  /** The record's created_at in epoch milliseconds (the sweep check, entries.ts). */
  createdMs: number;
  record: Record<string, unknown>;
  hash: Uint8Array;
}

function leafOf(kind: LeafKind, id: string, createdMs: number, view: Record<string, unknown>): Leaf {
  const record = { ...view, kind };
  return { kind, id, createdMs, record, hash: hashLeaf(jcsBytes(record)) };
}

/**
 * An event leaf from a text row of EVENT_VIEW_COLUMNS: the Event view exactly as history serves
 * it (API.md §0.5), so a client holding that JSON recomputes the hash from it.
 */
export function eventLeaf(row: TextRow): Leaf {
  const view = JSON.parse(eventJson(row)) as Record<string, unknown>;
  return leafOf('event', row['id']!, Date.parse(view['createdAt'] as string), view);
}

/** An admin leaf: the AuditEntry view exactly as GET /api/audit serves it. */
export function adminLeaf(row: Omit<AuditRow, 'txid'>): Leaf {
  return leafOf('admin', row.id, row.createdAt.getTime(), toAuditEntry(row));
}
