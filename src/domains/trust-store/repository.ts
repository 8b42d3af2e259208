import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { pinnedKeys, trustAnchors } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';

type Executor = Pick<Database, 'select' | 'insert' | 'update' | 'delete'>;

export type AnchorRow = typeof trustAnchors.$inferSelect;
export type PinnedKeyRow = typeof pinnedKeys.$inferSelect;
export type NewAnchor = Pick<AnchorRow, 'namespace' | 'issuerUrl' | 'jwksUrl' | 'label' | 'addedBy'>;
export type AnchorChanges = Partial<Pick<AnchorRow, 'issuerUrl' | 'jwksUrl' | 'label'>>;
export type NewPinnedKey = Pick<PinnedKeyRow, 'namespace' | 'aid' | 'pubkey' | 'label' | 'expiresAt' | 'addedBy'>;

export const ANCHOR_UNIQUE_CONSTRAINT = 'trust_anchors_namespace_issuer_uniq';

/** Page of anchors, `created_at` desc, `id` asc (API.md §10.1); fetches limit + 1 for hasMore. */
export async function listAnchors(db: Executor, namespace: string | undefined, page: Page): Promise<AnchorRow[]> {
  return db
    .select()
    .from(trustAnchors)
    .where(namespace === undefined ? undefined : eq(trustAnchors.namespace, namespace))
    .orderBy(desc(trustAnchors.createdAt), asc(trustAnchors.id))
    .limit(page.limit + 1)
    .offset(page.offset);
}

export async function findAnchor(db: Executor, id: string, forUpdate = false): Promise<AnchorRow | undefined> {
  const query = db.select().from(trustAnchors).where(eq(trustAnchors.id, id));
  const rows = forUpdate ? await query.for('update') : await query;
  return rows[0];
}

export async function findAnchorId(db: Executor, namespace: string, issuerUrl: string): Promise<string | undefined> {
  const rows = await db
    .select({ id: trustAnchors.id })
    .from(trustAnchors)
    .where(and(eq(trustAnchors.namespace, namespace), eq(trustAnchors.issuerUrl, issuerUrl)));
  return rows[0]?.id;
}

/** Undefined when (namespace, issuer_url) is taken: ON CONFLICT also covers a concurrent insert. */
export async function insertAnchor(tx: Executor, anchor: NewAnchor): Promise<AnchorRow | undefined> {
  const rows = await tx
    .insert(trustAnchors)
    .values(anchor)
    .onConflictDoNothing({ target: [trustAnchors.namespace, trustAnchors.issuerUrl] })
    .returning();
  return rows[0];
}

export async function updateAnchor(tx: Executor, id: string, changes: AnchorChanges): Promise<AnchorRow> {
  const rows = await tx
    .update(trustAnchors)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(trustAnchors.id, id))
    .returning();
  return rows[0]!;
}

export async function deleteAnchor(tx: Executor, id: string): Promise<boolean> {
  const rows = await tx.delete(trustAnchors).where(eq(trustAnchors.id, id)).returning({ id: trustAnchors.id });
  return rows.length > 0;
}

/** Page of pinned keys, `created_at` desc, `namespace` asc, `aid` asc (API.md §10.6). */
export async function listPinnedKeys(db: Executor, namespace: string | undefined, page: Page): Promise<PinnedKeyRow[]> {
  return db
    .select()
    .from(pinnedKeys)
    .where(namespace === undefined ? undefined : eq(pinnedKeys.namespace, namespace))
    .orderBy(desc(pinnedKeys.createdAt), asc(pinnedKeys.namespace), asc(pinnedKeys.aid))
    .limit(page.limit + 1)
    .offset(page.offset);
}

export async function findPinnedKey(db: Executor, namespace: string, aid: string): Promise<PinnedKeyRow | undefined> {
  const rows = await db
    .select()
    .from(pinnedKeys)
    .where(and(eq(pinnedKeys.namespace, namespace), eq(pinnedKeys.aid, aid)));
  return rows[0];
}

/** Upsert on (namespace, aid): pubkey, label, expires_at and updated_at change; added_by stays (API.md §10.7). */
export async function upsertPinnedKey(tx: Executor, key: NewPinnedKey): Promise<PinnedKeyRow> {
  const rows = await tx
    .insert(pinnedKeys)
    .values(key)
    .onConflictDoUpdate({
      target: [pinnedKeys.namespace, pinnedKeys.aid],
      set: { pubkey: key.pubkey, label: key.label, expiresAt: key.expiresAt, updatedAt: sql`now()` },
    })
    .returning();
  return rows[0]!;
}

export async function deletePinnedKey(tx: Executor, namespace: string, aid: string): Promise<boolean> {
  const rows = await tx
    .delete(pinnedKeys)
    .where(and(eq(pinnedKeys.namespace, namespace), eq(pinnedKeys.aid, aid)))
    .returning({ aid: pinnedKeys.aid });
  return rows.length > 0;
}

/** A unique violation (23505) of `constraint`, as thrown by pg or wrapped by drizzle. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const { code, constraint: name } = e as { code?: unknown; constraint?: unknown };
    if (code === '23505' && name === constraint) return true;
    if ((e as { cause?: unknown }).cause === e) break;
  }
  return false;
}
