import { Type, type Static } from 'typebox';
import { PageQuerySchema } from '../../lib/pagination.js';
import { AidString } from '../../lib/schemas.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);

/**
 * Any JSON: the batch shape (EVENTS.md §2.1) and every entry are checked by normalize.ts, which
 * reports the exact JSON Pointer forms (`/events/<i>` vs `/<i>`) and the 413 cases the contract
 * asks for. Declaring a body schema is also what makes the body plugin parse the body.
 */
export const IngestBodySchema = Type.Unknown();

export const IngestResultSchema = Type.Object({
  ingested: Type.Integer(),
  inserted: Type.Integer(),
  duplicates: Type.Integer(),
});
export type IngestResult = Static<typeof IngestResultSchema>;

/** API.md §0.5 Event. */
export const EventSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  ts: Type.String(),
  aidA: NullableString,
  aidB: NullableString,
  sessionId: NullableString,
  runId: NullableString,
  grants: Type.Union([Type.Array(Type.String()), Type.Null()]),
  payload: Type.Unknown(),
  source: NullableString,
  createdAt: Type.String(),
});

/**
 * Query values are strings; a repeated parameter arrives as an array and fails here → 400. The
 * exact-match filters take what their columns can hold (same bounds as the SSE stream's).
 */
export const HistoryQuerySchema = Type.Object({
  type: Type.Optional(Type.String()),
  aid: Type.Optional(AidString),
  session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  run_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  runId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
  ...PageQuerySchema,
});
export type HistoryQuery = Static<typeof HistoryQuerySchema>;

/** The list envelope of API.md §0.5, spelled out so the handler's return type is checked. */
export const HistoryResponseSchema = Type.Object({
  events: Type.Array(EventSchema),
  count: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  hasMore: Type.Boolean(),
});
