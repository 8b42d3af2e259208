import { Type, type Static } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';
import { BooleanQuery } from '../../lib/query-params.js';
import { UuidString } from '../../lib/schemas.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** API.md §0.5 Tct. */
export const TctSchema = Type.Object({
  jti: Type.String(),
  issuer: Type.String(),
  subject: Type.String(),
  audience: Type.String(),
  grants: Type.Array(Type.String()),
  bindingCnf: NullableString,
  issuedAt: Type.String(),
  expiresAt: NullableString,
  sessionId: NullableString,
  revoked: Type.Boolean(),
  revokedAt: NullableString,
});
export type Tct = Static<typeof TctSchema>;

/** TctRecord (API.md §2.8, §4.3): every issued_tcts column, camelCased, for exports. */
export const TctRecordSchema = Type.Object({
  jti: Type.String(),
  issuerAid: Type.String(),
  subjectAid: Type.String(),
  audienceAid: Type.String(),
  grants: Type.Array(Type.String()),
  bindingCnf: NullableString,
  issuedAt: Type.String(),
  expiresAt: NullableString,
  sessionId: NullableString,
  revoked: Type.Boolean(),
  revokedAt: NullableString,
  createdAt: Type.String(),
});
export type TctRecord = Static<typeof TctRecordSchema>;

/** API.md §0.5 Delegation. */
export const DelegationSchema = Type.Object({
  jti: Type.String(),
  parentJti: Type.String(),
  delegator: Type.String(),
  delegatee: Type.String(),
  scope: Type.Array(Type.String()),
  issuedAt: Type.String(),
  expiresAt: NullableString,
  revoked: Type.Boolean(),
  revokedAt: NullableString,
  revokedReason: Type.Union([Type.Literal('explicit'), Type.Literal('parent_revoked'), Type.Null()]),
  sessionId: NullableString,
});
export type Delegation = Static<typeof DelegationSchema>;

/** A malformed `jti` is a 400 BAD_REQUEST with `field: "jti"` (contract Ruling 10). */
export const TctQuerySchema = Type.Object({
  issuer: Type.Optional(Type.String()),
  subject: Type.Optional(Type.String()),
  audience: Type.Optional(Type.String()),
  capability: Type.Optional(Type.String()),
  session_id: Type.Optional(Type.String()),
  sessionId: Type.Optional(Type.String()),
  jti: Type.Optional(UuidString),
  active: Type.Optional(BooleanQuery),
  ...PageQuerySchema,
});
export type TctQuery = Static<typeof TctQuerySchema>;

/** `root_jti` / `parent_jti` (and their aliases) must be UUIDs: 400 with the parameter's name (API.md §9.2). */
export const DelegationQuerySchema = Type.Object({
  root_jti: Type.Optional(UuidString),
  rootJti: Type.Optional(UuidString),
  parent_jti: Type.Optional(UuidString),
  parentJti: Type.Optional(UuidString),
  delegator: Type.Optional(Type.String()),
  delegatee: Type.Optional(Type.String()),
  active: Type.Optional(BooleanQuery),
  ...PageQuerySchema,
});
export type DelegationQuery = Static<typeof DelegationQuerySchema>;

export const TctListSchema = ListSchema('tcts', TctSchema);
export const DelegationListSchema = ListSchema('delegations', DelegationSchema);
