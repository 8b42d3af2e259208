import { Type, type Static, type TSchema } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';
import { BooleanQuery } from '../../lib/query-params.js';
import { UuidString } from '../../lib/schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** ISO-8601 UTC with milliseconds (contract README §Timestamps). */
const Timestamp = Type.String();
const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);

/** API.md §7.2 member rules; the URL itself is judged by the guard (400 URL_NOT_ALLOWED). */
const Members = {
  url: Type.String(),
  events: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 50 }),
  secret: Type.String({ minLength: 1, maxLength: 255 }),
  active: Type.Boolean(),
};

export const CreateWebhookBodySchema = Type.Object({
  url: Members.url,
  events: Type.Optional(Members.events),
  secret: Type.Optional(Members.secret),
  active: Type.Optional(Members.active),
});
export type CreateWebhookBody = Static<typeof CreateWebhookBodySchema>;

/** PATCH and PUT (an exact alias): a partial update, `{}` changes nothing. */
export const PatchWebhookBodySchema = Type.Object({
  url: Type.Optional(Members.url),
  events: Type.Optional(Members.events),
  secret: Type.Optional(Members.secret),
  active: Type.Optional(Members.active),
});
export type PatchWebhookBody = Static<typeof PatchWebhookBodySchema>;

/** Rotation state: when the secret last changed, and until when the replaced one still signs. */
const RotationMembers = {
  secretRotatedAt: Nullable(Timestamp),
  previousSecretExpiresAt: Nullable(Timestamp),
};

/** API.md §0.5 Webhook: never a secret. */
export const WebhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  ...RotationMembers,
});
export type Webhook = Static<typeof WebhookSchema>;

/**
 * The create and rotate-secret responses: the only times a secret is shown (absent on a create
 * replay after a delete).
 */
export const CreatedWebhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  secret: Type.Optional(Type.String()),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  ...RotationMembers,
});
export type CreatedWebhook = Static<typeof CreatedWebhookSchema>;

/** POST /api/webhooks/:id/rotate-secret: how long the replaced secret keeps signing. */
export const RotateSecretBodySchema = Type.Object({
  overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 604800 })),
});
export type RotateSecretBody = Static<typeof RotateSecretBodySchema>;

export const WebhookListSchema = ListSchema('webhooks', WebhookSchema);

export const ListWebhooksQuerySchema = Type.Object({ active: Type.Optional(BooleanQuery), ...PageQuerySchema });
export type ListWebhooksQuery = Static<typeof ListWebhooksQuerySchema>;

export const DeletedWebhookSchema = Type.Object({ id: Type.String(), deleted: Type.Literal(true) });

/** A non-UUID id names no webhook → 404 (contract README §Bodies). */
export const WebhookParamsSchema = Type.Object({ id: UuidString });
export const DeliveryParamsSchema = Type.Object({ id: UuidString, deliveryId: UuidString });

/** API.md §0.5 Delivery (list items carry no body). */
export const DeliverySchema = Type.Object({
  id: Type.String(),
  webhookId: Type.String(),
  eventId: Nullable(Type.String()),
  eventType: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  nextRetryAt: Nullable(Timestamp),
  lastAttemptAt: Nullable(Timestamp),
  deliveredAt: Nullable(Timestamp),
  redeliveryOf: Nullable(Type.String()),
  createdAt: Timestamp,
});
export type Delivery = Static<typeof DeliverySchema>;

/** Detail adds the exact JSON text sent. */
export const DeliveryDetailSchema = Type.Object({ ...DeliverySchema.properties, body: Type.String() });
export type DeliveryDetail = Static<typeof DeliveryDetailSchema>;

export const DeliveryListSchema = ListSchema('deliveries', DeliverySchema);

export const ListDeliveriesQuerySchema = Type.Object({
  status: Type.Optional(DeliveryStatus),
  event_type: Type.Optional(Type.String()),
  eventType: Type.Optional(Type.String()),
  ...PageQuerySchema,
});
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuerySchema>;

/** API.md §0.5 BreakerSnapshot; `openedAt`/`nextProbeAt` are epoch ms. */
export const BreakerSnapshotSchema = Type.Object({
  state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
  failures: Type.Integer(),
  consecutiveSuccesses: Type.Integer(),
  openedAt: Nullable(Type.Integer()),
  nextProbeAt: Nullable(Type.Integer()),
});
