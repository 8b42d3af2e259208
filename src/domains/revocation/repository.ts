import { asc, desc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { revocationEntries } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';

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

type Writer = Pick<Database, 'insert'>;

/** A row as the API shows it (API.md §0.5 RevocationEntry). */
export interface RevocationEntryRow {
  jti: string;
  revokedAt: Date;
  reason: string | null;
  createdAt: Date;
}

const ENTRY_COLUMNS = {
  jti: revocationEntries.jti,
  revokedAt: revocationEntries.revokedAt,
  reason: revocationEntries.reason,
  createdAt: revocationEntries.createdAt,
};

/**
 * Inserts a new entry; undefined when the jti is already stored. ON CONFLICT DO NOTHING waits
 * for a concurrent insert of the same jti to commit, so of two racing POSTs exactly one gets the row.
 */
export async function insertEntry(
  tx: Writer,
  entry: { jti: string; revokedAt: Date; reason: string | null; revokedBy: string },
): Promise<RevocationEntryRow | undefined> {
  const [row] = await tx.insert(revocationEntries).values(entry).onConflictDoNothing({ target: revocationEntries.jti }).returning(ENTRY_COLUMNS);
  return row;
}

export async function findEntry(db: Reader, jti: string): Promise<RevocationEntryRow | undefined> {
  const [row] = await db.select(ENTRY_COLUMNS).from(revocationEntries).where(eq(revocationEntries.jti, jti));
  return row;
}

/** One page, `revoked_at` desc, `jti` asc (API.md §6.2); `limit + 1` rows for `hasMore`. */
export async function listEntries(db: Reader, filter: { jti?: string }, page: Page): Promise<RevocationEntryRow[]> {
  return db
    .select(ENTRY_COLUMNS)
    .from(revocationEntries)
    .where(filter.jti === undefined ? undefined : eq(revocationEntries.jti, filter.jti))
    .orderBy(desc(revocationEntries.revokedAt), asc(revocationEntries.jti))
    .limit(page.limit + 1)
    .offset(page.offset);
}
