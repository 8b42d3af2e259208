import { Type, type Static } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';
import { UuidString } from '../../lib/schemas.js';

/** API.md §0.5 RevocationEntry; the POST answers with it too (contract Ruling 23). */
export const RevocationEntrySchema = Type.Object({
  jti: Type.String(),
  revokedAt: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
export type RevocationEntry = Static<typeof RevocationEntrySchema>;

/**
 * API.md §6.1. `jti` is checked before this schema (JTI_INVALID, `field: "/jti"`); `revokedAt`
 * is parsed by the service (README §Timestamps). Unknown members are ignored (Ruling 18).
 */
export const CreateEntryBodySchema = Type.Object({
  jti: UuidString,
  reason: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  revokedAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type CreateEntryBody = Static<typeof CreateEntryBodySchema>;

/** A malformed `jti` filter is a 400 BAD_REQUEST with `field: "jti"` (contract Ruling 10). */
export const EntryListQuerySchema = Type.Object({
  jti: Type.Optional(UuidString),
  ...PageQuerySchema,
});
export type EntryListQuery = Static<typeof EntryListQuerySchema>;

export const EntryListSchema = ListSchema('entries', RevocationEntrySchema);
