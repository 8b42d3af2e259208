import { jcs } from '../../aitp/index.js';
import { isoOf, type TextRow } from '../../db/raw-query.js';
import { jsonString } from '../../lib/json-text.js';
import { toIso } from '../../lib/timestamps.js';
import { hashLeafText } from '../../lib/tlog/index.js';
import { toAuditEntry, type AuditRow } from '../admin-audit/index.js';
import { eventJson, type StoredEvent } from '../events/index.js';

export type LeafKind = 'admin' | 'event';

/** What the log keeps of a record: which one it is and its RFC 9162 leaf hash. */
export interface LeafRef {
  kind: LeafKind;
  id: string;
  /** The record's created_at in epoch milliseconds (the sweep check, entries.ts). */
  createdMs: number;
  hash: Uint8Array;
}

/** A record as a leaf: the API view of the record plus `kind`; the hash is of its JCS. */
export interface Leaf extends LeafRef {
  record: Record<string, unknown>;
}

const jcsOfJson = (text: string | null | undefined): string => (text === null || text === undefined ? 'null' : jcs(JSON.parse(text)));

/** An event leaf's members, each already in its JCS form (strings quoted, JSON canonicalized). */
interface EventLeafParts {
  aidA: string;
  aidB: string;
  createdAt: string;
  grants: string;
  id: string;
  payload: string;
  runId: string;
  sessionId: string;
  source: string;
  ts: string;
  type: string;
}

/**
 * The JCS text of an event leaf record without building the object: the Event view's members
 * plus `kind`, in RFC 8785 member order (UTF-16 code units: aidA aidB createdAt grants id kind
 * payload runId sessionId source ts type).
 */
function eventLeafText(p: EventLeafParts): string {
  return (
    `{"aidA":${p.aidA},"aidB":${p.aidB},"createdAt":${p.createdAt},"grants":${p.grants},"id":${p.id},"kind":"event",` +
    `"payload":${p.payload},"runId":${p.runId},"sessionId":${p.sessionId},"source":${p.source},"ts":${p.ts},"type":${p.type}}`
  );
}

/**
 * eventLeafText from a text row of EVENT_VIEW_COLUMNS; only the jsonb members are parsed, to
 * canonicalize them. Equal to jcs(eventLeaf(row).record), which a unit test asserts over
 * generated rows.
 */
export function eventLeafJcs(row: TextRow): string {
  return eventLeafText({
    aidA: jsonString(row['aid_a']),
    aidB: jsonString(row['aid_b']),
    createdAt: `"${isoOf(row['created_at']!)}"`,
    grants: jcsOfJson(row['grants']),
    id: `"${row['id']!}"`,
    payload: jcsOfJson(row['payload']),
    runId: jsonString(row['run_id']),
    sessionId: jsonString(row['session_id']),
    source: jsonString(row['source']),
    ts: `"${isoOf(row['ts']!)}"`,
    type: jsonString(row['type']),
  });
}

/**
 * eventLeafText of an event as the pipeline stored it, from memory: the same text the row gives
 * back (timestamps at millisecond precision both ways, payload and grants canonicalized from
 * the values their JSON was written from). Throws where JCS cannot encode a value. The rows of
 * one statement share created_at: a caller hashing a batch passes its JSON text once.
 */
export function storedEventLeafJcs(e: StoredEvent, createdAtJson = `"${toIso(e.createdAt)}"`): string {
  return eventLeafText({
    aidA: jsonString(e.aidA),
    aidB: jsonString(e.aidB),
    createdAt: createdAtJson,
    grants: e.grants === null ? 'null' : jcs(e.grants),
    id: `"${e.id}"`,
    payload: e.payloadJcs ?? jcs(e.payload),
    runId: jsonString(e.runId),
    sessionId: jsonString(e.sessionId),
    source: jsonString(e.source),
    ts: `"${toIso(e.ts)}"`,
    type: jsonString(e.type),
  });
}

/** The integrator's view of an event row: no record object, only what the log stores. */
export function eventLeafRef(row: TextRow): LeafRef {
  return { kind: 'event', id: row['id']!, createdMs: Date.parse(isoOf(row['created_at']!)), hash: hashLeafText(eventLeafJcs(row)) };
}

/**
 * An event leaf from a text row of EVENT_VIEW_COLUMNS: the Event view exactly as history serves
 * it (API.md §0.5), so a client holding that JSON recomputes the hash from it.
 */
export function eventLeaf(row: TextRow): Leaf {
  const view = JSON.parse(eventJson(row)) as Record<string, unknown>;
  return { ...eventLeafRef(row), record: { ...view, kind: 'event' } };
}

/** An admin leaf: the AuditEntry view exactly as GET /api/audit serves it. */
export function adminLeaf(row: Omit<AuditRow, 'txid'>): Leaf {
  const record = { ...toAuditEntry(row), kind: 'admin' };
  return { kind: 'admin', id: row.id, createdMs: row.createdAt.getTime(), record, hash: hashLeafText(jcs(record)) };
}
