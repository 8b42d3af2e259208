import { Type } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';

// Integers arrive as strings and are checked by the handler, so a malformed or out-of-range
// value is 400 BAD_REQUEST with `field` (a path value included), never a schema 404.
const Digits = Type.String();

export const CheckpointSchema = Type.Object({
  size: Type.Integer(),
  /** Standard base64 of the RFC 9162 root hash. */
  root: Type.String(),
  /** The signed note (C2SP signed-note around a tlog-checkpoint), as served by the well-known route. */
  note: Type.String(),
  createdAt: Type.String(),
});

export const CheckpointListSchema = ListSchema('checkpoints', CheckpointSchema);
export const PageQuery = Type.Object({ ...PageQuerySchema });

const Kind = Type.Union([Type.Literal('event'), Type.Literal('admin')]);

/** A leaf and its record: JCS(record) is the leaf data, leafHash = SHA-256(0x00 || JCS(record)). */
export const EntrySchema = Type.Object({
  index: Type.Integer(),
  kind: Kind,
  id: Type.String(),
  leafHash: Type.String(),
  status: Type.Union([Type.Literal('present'), Type.Literal('swept'), Type.Literal('missing')]),
  record: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export const EntryListSchema = ListSchema('entries', EntrySchema);
export const EntryParamsSchema = Type.Object({ index: Digits });

export const InclusionQuerySchema = Type.Object({ index: Digits, size: Digits });
export const InclusionProofSchema = Type.Object({ index: Type.Integer(), size: Type.Integer(), proof: Type.Array(Type.String()) });

export const ConsistencyQuerySchema = Type.Object({ from: Digits, to: Digits });
export const ConsistencyProofSchema = Type.Object({ from: Type.Integer(), to: Type.Integer(), proof: Type.Array(Type.String()) });

/** 410: ENTRY_SWEPT (retention deleted the record) or ENTRY_MISSING (deleted otherwise); the leaf stays. */
export const GoneSchema = Type.Object({ error: Type.String(), code: Type.String(), index: Type.Integer(), leafHash: Type.String() });
