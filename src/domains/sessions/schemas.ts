import { Type, type Static } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';
import { BoundarySchema } from '../../lib/schemas.js';
import { EventSchema } from '../events/schemas.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const SessionStatus = Type.Union([Type.Literal('started'), Type.Literal('complete'), Type.Literal('failed')]);

/** API.md §0.5 Session. */
export const SessionSchema = Type.Object({
  sessionId: Type.String(),
  aidA: NullableString,
  aidB: NullableString,
  status: SessionStatus,
  grants: Type.Array(Type.String()),
  runId: NullableString,
  boundary: BoundarySchema,
  error: NullableString,
  startedAt: NullableString,
  completedAt: NullableString,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Session = Static<typeof SessionSchema>;

/** `:sessionId` is 1–255 code points; anything else is a 404 (API.md §4.2). */
export const SessionParamsSchema = Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 255 }) });

export const SessionListQuerySchema = Type.Object({
  status: Type.Optional(SessionStatus),
  run_id: Type.Optional(Type.String()),
  runId: Type.Optional(Type.String()),
  aid: Type.Optional(Type.String()),
  ...PageQuerySchema,
});
export type SessionListQuery = Static<typeof SessionListQuerySchema>;

export const SessionListSchema = ListSchema('sessions', SessionSchema);

export const SessionDetailSchema = Type.Object({
  session: SessionSchema,
  events: Type.Array(EventSchema),
  eventsTruncated: Type.Boolean(),
});

export const ExportQuerySchema = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('jsonl')])),
});

/**
 * 200 of an export (API.md §4.3): streamed, never serialized from one object, so the schema
 * only documents it.
 */
export const SessionExportSchema = Type.Unknown({
  description: '{session, tcts (TctRecord), events (Event), exportedAt}, or NDJSON lines {kind: session|tct|event, record}',
});

export const ReplayQuerySchema = Type.Object({
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
  ...PageQuerySchema,
});
export type ReplayQuery = Static<typeof ReplayQuerySchema>;

export const ReplaySchema = Type.Object({
  sessionId: Type.String(),
  count: Type.Integer(),
  events: Type.Array(EventSchema),
  limit: Type.Integer(),
  offset: Type.Integer(),
  hasMore: Type.Boolean(),
});
