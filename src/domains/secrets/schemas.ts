import { Type, type Static } from 'typebox';

/** What a re-seal did: every stored credential counted once; ids only for failures. */
export const ResealReportSchema = Type.Object({
  scanned: Type.Integer(),
  resealed: Type.Integer(),
  alreadyCurrent: Type.Integer(),
  failed: Type.Integer(),
  failedIds: Type.Array(Type.String()),
});
export type ResealReport = Static<typeof ResealReportSchema>;
