import { asc } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { revocationEntries } from '../../db/schema/index.js';

type Reader = Pick<Database, 'select'>;

export interface StoredRevocation {
  jti: string;
  revokedAt: Date;
  reason: string | null;
}

/** Every entry in ONE statement (OPERATIONS.md §7.2): a snapshot is never built from a partial read. */
export async function readAllRevocations(db: Reader): Promise<StoredRevocation[]> {
  return db
    .select({ jti: revocationEntries.jti, revokedAt: revocationEntries.revokedAt, reason: revocationEntries.reason })
    .from(revocationEntries)
    .orderBy(asc(revocationEntries.revokedAt), asc(revocationEntries.jti));
}
