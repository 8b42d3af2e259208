import { Type, type Static, type TSchema } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';
import { BooleanQuery } from '../../lib/query-params.js';
import { AidString } from '../../lib/schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** ISO-8601 UTC with milliseconds (contract README §Timestamps). */
const Timestamp = Type.String();
const Status = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('deregistered')]);

/** The Agent view (API.md §0.5). */
export const AgentSchema = Type.Object({
  aid: Type.String(),
  displayName: Type.String(),
  handshakeEndpoint: Type.String(),
  offeredCaps: Type.Array(Type.String()),
  status: Status,
  namespace: Type.String(),
  registeredAt: Timestamp,
  lastEnrolledAt: Nullable(Timestamp),
  lastSeenAt: Nullable(Timestamp),
  manifestExpiresAt: Nullable(Timestamp),
  deregisteredAt: Nullable(Timestamp),
  manifestUrl: Type.String(),
  agentManifestHint: Nullable(Type.String()),
  /** Only with `include_manifest` (API.md §2.2). */
  manifestJson: Type.Optional(Type.String()),
});
export type Agent = Static<typeof AgentSchema>;

export const AgentListSchema = ListSchema('agents', AgentSchema);

export const ListAgentsQuerySchema = Type.Object({
  capability: Type.Optional(Type.String()),
  aid: Type.Optional(Type.String()),
  display_name: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('deregistered'), Type.Literal('all')])),
  include_manifest: Type.Optional(BooleanQuery),
  ...PageQuerySchema,
});
export type ListAgentsQuery = Static<typeof ListAgentsQuerySchema>;

/** `:aid` longer than the column can hold names no agent → 404 (API.md §2.5). */
export const AidParamsSchema = Type.Object({ aid: AidString });

/** Enroll checks the envelope itself so that a bad shape is MANIFEST_INVALID (API.md §2.1 step 3). */
export const EnrollBodySchema = Type.Unknown();

export const EnrollResponseSchema = Type.Object({
  token: Type.String(),
  expiresIn: Type.Integer(),
  aid: Type.String(),
  jti: Type.String(),
  exp: Type.Integer(),
});

/** Register step 2 (API.md §2.3, Ruling 6): the schema answers BODY_INVALID with the pointer. */
export const RegisterBodySchema = Type.Object({ manifest: Type.Object({ aid: Type.String() }) });
export type RegisterBody = Static<typeof RegisterBodySchema>;

export const RegisterResponseSchema = Type.Object({
  aid: Type.String(),
  displayName: Type.String(),
  registeredAt: Timestamp,
  lastEnrolledAt: Timestamp,
  namespace: Type.String(),
  status: Status,
});

export const DeregisterResponseSchema = Type.Object({
  aid: Type.String(),
  status: Type.Literal('deregistered'),
  deregisteredAt: Timestamp,
});

export const ExportQuerySchema = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('jsonl')])),
  event_limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  eventLimit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
});
export type ExportQuery = Static<typeof ExportQuerySchema>;
