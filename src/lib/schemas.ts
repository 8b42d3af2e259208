import { Type } from 'typebox';

/** `{ error, code }` plus the catalogue's extra keys (contract README §Error envelope). */
export const ErrorSchema = Type.Object(
  {
    error: Type.String(),
    code: Type.String(),
    field: Type.Optional(Type.String()),
    index: Type.Optional(Type.Integer()),
    eventType: Type.Optional(Type.String()),
    bucket: Type.Optional(Type.String()),
    existing: Type.Optional(Type.Object({ id: Type.String() })),
    verifyCode: Type.Optional(Type.String()),
    leafHash: Type.Optional(Type.String()),
  },
  { $id: 'Error' },
);

/** The longest AID any field accepts (DATA-MODEL.md: every aid column is varchar(512)). */
export const MAX_AID_LENGTH = 512;

/** An AID in a query or path value. */
export const AidString = Type.String({ minLength: 1, maxLength: MAX_AID_LENGTH });

/** A UUID in a query value: any version/variant, 8-4-4-4-12 hex, any case (contract README §Bodies). */
export const UuidString = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });

const BOUNDARY_DESCRIPTION =
  'Trust boundary the handshake crossed, from the start event\'s payload.boundary, stored and grouped verbatim ' +
  '(ecosystem spellings: intra_org, cross_org, cross_cloud).';

/** A session's `boundary` (Ruling 27): any producer string, documented with the ecosystem's spelling. */
export const BoundarySchema = Type.Union([Type.String(), Type.Null()], { description: BOUNDARY_DESCRIPTION, examples: ['cross_org'] });
