import type { Database } from '../../db/client.js';
import { alreadyExists, bodyInvalid, notFound } from '../../lib/errors.js';
import { listEnvelope, parsePage, type PageLimits } from '../../lib/pagination.js';
import { parseTimestamp, toIso } from '../../lib/timestamps.js';
import { recordAudit } from '../admin-audit/index.js';
import {
  ANCHOR_UNIQUE_CONSTRAINT,
  deleteAnchor,
  deletePinnedKey,
  findAnchor,
  findAnchorId,
  findPinnedKey,
  insertAnchor,
  isUniqueViolation,
  listAnchors,
  listPinnedKeys,
  updateAnchor,
  upsertPinnedKey,
  type AnchorChanges,
  type AnchorRow,
  type PinnedKeyRow,
} from './repository.js';
import type { CreateAnchorBody, PatchAnchorBody, PinnedKey, TrustAnchor, UpsertPinnedKeyBody } from './schemas.js';

/** Who asked: the caller fingerprint (audit actor, `addedBy`) and the request id. */
export interface Actor {
  actorId: string;
  requestId: string;
}

export interface TrustStoreDeps {
  db: Database;
}

const LIST_LIMITS: PageLimits = { defaultLimit: 100, maxLimit: 1000 };
const DEFAULT_NAMESPACE = 'default';
/** A conflicting row can vanish between our write and the lookup of its id; then we try again. */
const CONFLICT_ATTEMPTS = 3;
const ABSOLUTE_HTTP = /^https?:\/\//i;
const WHITESPACE_OR_CONTROL = /\s|\p{Cc}/u;

/**
 * API.md §10.2: an absolute http(s) URL, stored verbatim (issuer identifiers compare as exact
 * strings) and never fetched. Whitespace is refused because URL parsing would silently drop it.
 */
function checkUrl(value: string, field: string): string {
  if (!ABSOLUTE_HTTP.test(value) || WHITESPACE_OR_CONTROL.test(value) || !URL.canParse(value)) {
    throw bodyInvalid(`${field.slice(1)} must be an absolute http(s) URL`, field);
  }
  return value;
}

export function anchorView(row: AnchorRow): TrustAnchor {
  return {
    id: row.id,
    namespace: row.namespace,
    issuerUrl: row.issuerUrl,
    jwksUrl: row.jwksUrl,
    label: row.label,
    jwksCachedAt: toIso(row.jwksCachedAt),
    addedBy: row.addedBy,
    createdAt: toIso(row.createdAt),
    updatedAt: toIso(row.updatedAt),
  };
}

export function pinnedKeyView(row: PinnedKeyRow): PinnedKey {
  return {
    namespace: row.namespace,
    aid: row.aid,
    pubkey: row.pubkey,
    label: row.label,
    expiresAt: toIso(row.expiresAt),
    addedBy: row.addedBy,
    createdAt: toIso(row.createdAt),
    updatedAt: toIso(row.updatedAt),
  };
}

/** The members of a patch whose value differs from the stored one (API.md §5 `trust-anchor.update`). */
function anchorChanges(current: AnchorRow, patch: PatchAnchorBody): AnchorChanges {
  const changes: AnchorChanges = {};
  if (patch.issuerUrl !== undefined && patch.issuerUrl !== current.issuerUrl) changes.issuerUrl = patch.issuerUrl;
  if (patch.jwksUrl !== undefined && patch.jwksUrl !== current.jwksUrl) changes.jwksUrl = patch.jwksUrl;
  if (patch.label !== undefined && patch.label !== current.label) changes.label = patch.label;
  return changes;
}

export function createTrustStoreService({ db }: TrustStoreDeps) {
  const conflict = (id: string) => alreadyExists('a trust anchor with this issuerUrl exists in this namespace', id);

  async function createAnchor(body: CreateAnchorBody, actor: Actor): Promise<TrustAnchor> {
    const anchor = {
      namespace: body.namespace === undefined || body.namespace === '' ? DEFAULT_NAMESPACE : body.namespace,
      issuerUrl: checkUrl(body.issuerUrl, '/issuerUrl'),
      jwksUrl: body.jwksUrl == null ? null : checkUrl(body.jwksUrl, '/jwksUrl'),
      label: body.label ?? null,
      addedBy: actor.actorId,
    };
    for (let attempt = 1; ; attempt++) {
      const created = await db.transaction(async (tx) => {
        const row = await insertAnchor(tx, anchor);
        if (row) {
          const details = { namespace: row.namespace, issuerUrl: row.issuerUrl };
          await recordAudit(tx, { action: 'trust-anchor.create', actorId: actor.actorId, targetId: row.id, details, requestId: actor.requestId });
        }
        return row;
      });
      if (created) return anchorView(created);
      const existing = await findAnchorId(db, anchor.namespace, anchor.issuerUrl);
      if (existing !== undefined) throw conflict(existing);
      if (attempt >= CONFLICT_ATTEMPTS) throw new Error('trust anchor insert kept conflicting with vanishing rows');
    }
  }

  async function patchOnce(id: string, patch: PatchAnchorBody, actor: Actor): Promise<TrustAnchor> {
    return db.transaction(async (tx) => {
      const current = await findAnchor(tx, id, true);
      if (!current) throw notFound('trust anchor not found');
      const changes = anchorChanges(current, patch);
      if (Object.keys(changes).length === 0) return anchorView(current);
      const updated = await updateAnchor(tx, id, changes);
      await recordAudit(tx, { action: 'trust-anchor.update', actorId: actor.actorId, targetId: updated.id, details: changes, requestId: actor.requestId });
      return anchorView(updated);
    });
  }

  /** 409 on (namespace, issuerUrl) collision, detected by the unique index so races are covered too. */
  async function patchAnchor(id: string, patch: PatchAnchorBody, actor: Actor): Promise<TrustAnchor> {
    if (patch.issuerUrl !== undefined) checkUrl(patch.issuerUrl, '/issuerUrl');
    if (patch.jwksUrl != null) checkUrl(patch.jwksUrl, '/jwksUrl');
    for (let attempt = 1; ; attempt++) {
      try {
        return await patchOnce(id, patch, actor);
      } catch (err) {
        if (patch.issuerUrl === undefined || !isUniqueViolation(err, ANCHOR_UNIQUE_CONSTRAINT)) throw err;
        const current = await findAnchor(db, id);
        const existing = current && (await findAnchorId(db, current.namespace, patch.issuerUrl));
        if (existing !== undefined) throw conflict(existing);
        if (attempt >= CONFLICT_ATTEMPTS) throw err;
      }
    }
  }

  async function removeAnchor(id: string, actor: Actor): Promise<void> {
    await db.transaction(async (tx) => {
      if (!(await deleteAnchor(tx, id))) throw notFound('trust anchor not found');
      await recordAudit(tx, { action: 'trust-anchor.delete', actorId: actor.actorId, targetId: id.toLowerCase(), details: {}, requestId: actor.requestId });
    });
  }

  async function getAnchor(id: string): Promise<TrustAnchor> {
    const row = await findAnchor(db, id);
    if (!row) throw notFound('trust anchor not found');
    return anchorView(row);
  }

  async function pageOfAnchors(query: { namespace?: string; limit?: string; offset?: string }) {
    const page = parsePage(query, LIST_LIMITS);
    const namespace = query.namespace === '' ? DEFAULT_NAMESPACE : query.namespace;
    const rows = await listAnchors(db, namespace, page);
    return listEnvelope('trustAnchors', rows.map(anchorView), page);
  }

  return { pageOfAnchors, getAnchor, createAnchor, patchAnchor, removeAnchor, ...pinnedKeyOperations(db) };
}

function pinnedKeyOperations(db: Database) {
  /** API.md §10.6: list mode without `aid`; the bare key (namespace default `default`) with it. */
  async function lookupPinnedKeys(query: { aid?: string; namespace?: string; limit?: string; offset?: string }) {
    if (query.aid !== undefined) {
      const row = await findPinnedKey(db, query.namespace ?? DEFAULT_NAMESPACE, query.aid);
      if (!row) throw notFound('pinned key not found');
      return pinnedKeyView(row);
    }
    const page = parsePage(query, LIST_LIMITS);
    const rows = await listPinnedKeys(db, query.namespace, page);
    return listEnvelope('pinnedKeys', rows.map(pinnedKeyView), page);
  }

  /** Replaces pubkey, label and expiresAt (an absent member stores null); addedBy only on insert. */
  async function upsert(body: UpsertPinnedKeyBody, actor: Actor): Promise<PinnedKey> {
    let expiresAt: Date | null = null;
    if (body.expiresAt != null) {
      const parsed = parseTimestamp(body.expiresAt);
      if (parsed === undefined) throw bodyInvalid('expiresAt must be an RFC 3339 timestamp or a date', '/expiresAt');
      expiresAt = parsed;
    }
    const namespace = body.namespace ?? DEFAULT_NAMESPACE;
    const key = { namespace, aid: body.aid, pubkey: body.pubkey, label: body.label ?? null, expiresAt, addedBy: actor.actorId };
    const row = await db.transaction(async (tx) => {
      const stored = await upsertPinnedKey(tx, key);
      await recordAudit(tx, { action: 'pinned-key.upsert', actorId: actor.actorId, targetId: body.aid, details: { namespace }, requestId: actor.requestId });
      return stored;
    });
    return pinnedKeyView(row);
  }

  async function removePinnedKey(query: { aid: string; namespace?: string }, actor: Actor): Promise<void> {
    const namespace = query.namespace ?? DEFAULT_NAMESPACE;
    await db.transaction(async (tx) => {
      if (!(await deletePinnedKey(tx, namespace, query.aid))) throw notFound('pinned key not found');
      await recordAudit(tx, { action: 'pinned-key.delete', actorId: actor.actorId, targetId: query.aid, details: { namespace }, requestId: actor.requestId });
    });
  }

  return { lookupPinnedKeys, upsertPinnedKey: upsert, removePinnedKey };
}

export type TrustStoreService = ReturnType<typeof createTrustStoreService>;
