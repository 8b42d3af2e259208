import { exceedsCodePoints as exceeds } from '../../lib/code-points.js';
import { bodyInvalid, payloadTooLarge } from '../../lib/errors.js';
import { isInRange, parseTimestamp } from '../../lib/timestamps.js';
import { eventIdAndPayloadJcs } from './event-id.js';
import type { NewEvent } from './types.js';
import { MAX_AID_LENGTH } from '../../lib/schemas.js';

/** Batch and per-event caps (API.md §3.1, EVENTS.md §2.3). */
export const MAX_BATCH_EVENTS = 500;
export const MAX_PAYLOAD_BYTES = 65_536;
const MAX_TYPE = 128;
const MAX_ID_FIELD = 255;
const MAX_SOURCE = 128;
const MAX_GRANTS = 256;
const MAX_GRANT = 256;

/** camelCase first, so it wins when both spellings are present (EVENTS.md §2.2). */
const AID_A_MEMBERS = ['aidA', 'aid_a', 'initiator'];
const AID_B_MEMBERS = ['aidB', 'aid_b', 'target'];
const SESSION_MEMBERS = ['sessionId', 'session_id'];
const RUN_MEMBERS = ['runId', 'run_id', 'playground.run_id'];

type Entry = Record<string, unknown>;

export interface BatchEntries {
  entries: unknown[];
  /** JSON Pointer prefix of entry i: `/events/<i>`, or `/<i>` for a bare-array body (EVENTS.md §2.1). */
  base: '' | '/events';
}

export interface NormalizedBatch {
  /** Unique by id, first occurrence kept, in batch order (EVENTS.md §3 step 3). */
  events: NewEvent[];
  /** Entries received, in-batch repeats included (`ingested`). */
  received: number;
}

/** The entries of a body: `[…]`, `{"events":[…]}` or `{}` (EVENTS.md §2.1). */
export function batchEntries(body: unknown): BatchEntries {
  if (Array.isArray(body)) return { entries: body, base: '' };
  if (body === null || typeof body !== 'object') throw bodyInvalid('body must be an array of events or {"events": [...]}', '');
  const events = (body as Entry)['events'];
  if (events === undefined) return { entries: [], base: '/events' };
  if (!Array.isArray(events)) throw bodyInvalid('events must be an array', '/events');
  return { entries: events, base: '/events' };
}

/**
 * Validates every entry before anything is written; the lowest failing index rejects the whole
 * batch (EVENTS.md §2.3). `nowMs` is the ingest time used for a missing or unusable `ts`.
 */
export function normalizeBatch(body: unknown, producer: string, nowMs: number): NormalizedBatch {
  const { entries, base } = batchEntries(body);
  if (entries.length > MAX_BATCH_EVENTS) {
    throw payloadTooLarge(`batch exceeds ${MAX_BATCH_EVENTS} events (got ${entries.length})`);
  }
  const seen = new Set<string>();
  const events: NewEvent[] = [];
  for (let index = 0; index < entries.length; index++) {
    const event = normalizeEntry(entries[index], { at: `${base}/${index}`, index, producer, nowMs });
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    events.push(event);
  }
  return { events, received: entries.length };
}

interface EntryContext {
  /** JSON Pointer of the entry. */
  at: string;
  index: number;
  producer: string;
  nowMs: number;
}

/** One entry through the field table of EVENTS.md §2.2 and the limits of §2.3. */
export function normalizeEntry(raw: unknown, ctx: EntryContext): NewEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw bodyInvalid('event must be a JSON object', ctx.at, ctx.index);
  }
  const entry = raw as Entry;
  const type = nonEmpty(entry['type']) ?? 'unknown';
  if (exceeds(type, MAX_TYPE)) throw tooLong(ctx, 'type', MAX_TYPE);
  const source = nonEmpty(entry['source']) ?? 'playground';
  if (exceeds(source, MAX_SOURCE)) throw tooLong(ctx, 'source', MAX_SOURCE);
  const payload = isContainer(entry['payload']) ? entry['payload'] : entry;
  const payloadJson = JSON.stringify(payload);
  const payloadBytes = Buffer.byteLength(payloadJson, 'utf8');
  if (payloadBytes > MAX_PAYLOAD_BYTES) {
    throw payloadTooLarge(`event payload is ${payloadBytes} bytes, over ${MAX_PAYLOAD_BYTES}`, { index: ctx.index, eventType: type });
  }
  const { id, payloadJcs } = eventIdAndPayloadJcs(ctx.producer, entry, payload === entry);
  return {
    id,
    type,
    ts: eventTime(entry['ts'], ctx.nowMs),
    aidA: limited(entry, AID_A_MEMBERS, MAX_AID_LENGTH, ctx),
    aidB: limited(entry, AID_B_MEMBERS, MAX_AID_LENGTH, ctx),
    sessionId: limited(entry, SESSION_MEMBERS, MAX_ID_FIELD, ctx),
    runId: runIdOf(entry, ctx),
    grants: grantsOf(entry, ctx),
    payload,
    source,
    producer: ctx.producer,
    payloadJson,
    payloadJcs,
  };
}

/**
 * `ts` (EVENTS.md §2.4): numbers below 1e12 are epoch seconds, others epoch milliseconds;
 * strings are README §Timestamps (or Postgres text); anything else, or out of range, is the
 * ingest time. Millisecond precision.
 */
export function eventTime(value: unknown, nowMs: number): Date {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const date = new Date(Math.abs(value) < 1e12 ? secondsToMillis(value) : Math.floor(value));
    return isInRange(date) ? date : new Date(nowMs);
  }
  if (typeof value === 'string') return parseTimestamp(value) ?? new Date(nowMs);
  return new Date(nowMs);
}

/** Keeps the fraction to the ms; binary noise (1.001 * 1000 = 1000.9999…) is not a truncation. */
function secondsToMillis(seconds: number): number {
  const millis = seconds * 1000;
  const nearest = Math.round(millis);
  return Math.abs(millis - nearest) < 1e-3 ? nearest : Math.floor(millis);
}

function runIdOf(entry: Entry, ctx: EntryContext): string | null {
  const direct = firstOf(entry, RUN_MEMBERS);
  if (direct) return checked(direct.value, `${ctx.at}/${direct.member}`, MAX_ID_FIELD, ctx.index);
  const playground = entry['playground'];
  if (playground === null || typeof playground !== 'object' || Array.isArray(playground)) return null;
  const nested = nonEmpty((playground as Entry)['run_id']);
  return nested === undefined ? null : checked(nested, `${ctx.at}/playground/run_id`, MAX_ID_FIELD, ctx.index);
}

function grantsOf(entry: Entry, ctx: EntryContext): string[] | null {
  const grants = entry['grants'];
  if (!Array.isArray(grants) || !grants.every((g): g is string => typeof g === 'string')) return null;
  if (grants.length > MAX_GRANTS) throw bodyInvalid(`grants has more than ${MAX_GRANTS} items`, `${ctx.at}/grants`, ctx.index);
  grants.forEach((grant, i) => checked(grant, `${ctx.at}/grants/${i}`, MAX_GRANT, ctx.index));
  return grants;
}

/** The first of `members` holding a non-empty string, checked against `max` code points. */
function limited(entry: Entry, members: readonly string[], max: number, ctx: EntryContext): string | null {
  const found = firstOf(entry, members);
  return found ? checked(found.value, `${ctx.at}/${found.member}`, max, ctx.index) : null;
}

function firstOf(entry: Entry, members: readonly string[]): { member: string; value: string } | undefined {
  for (const member of members) {
    const value = nonEmpty(entry[member]);
    if (value !== undefined) return { member, value };
  }
  return undefined;
}

function checked(value: string, field: string, max: number, index: number): string {
  if (exceeds(value, max)) throw bodyInvalid(`${field} is longer than ${max} characters`, field, index);
  return value;
}

function tooLong(ctx: EntryContext, member: string, max: number): Error {
  return bodyInvalid(`${member} is longer than ${max} characters`, `${ctx.at}/${member}`, ctx.index);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}
