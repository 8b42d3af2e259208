import { Type, type Static } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';

/** AuditEntry (API.md §0.5). */
export const AuditEntrySchema = Type.Object({
  id: Type.String(),
  action: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown(),
  requestId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditListSchema = ListSchema('entries', AuditEntrySchema);

export const AuditQuerySchema = Type.Object({
  action: Type.Optional(Type.String()),
  actor_id: Type.Optional(Type.String()),
  actorId: Type.Optional(Type.String()),
  target_id: Type.Optional(Type.String()),
  targetId: Type.Optional(Type.String()),
  ...PageQuerySchema,
});
export type AuditQuery = Static<typeof AuditQuerySchema>;
