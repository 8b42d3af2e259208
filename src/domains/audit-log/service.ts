import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { badRequest, entryMissing, entrySwept, notFound } from '../../lib/errors.js';
import type { Page } from '../../lib/pagination.js';
import { HASH_SIZE, SubtreeCache, TILE_WIDTH, TileCache, parseTilePath, proveConsistency, proveInclusion } from '../../lib/tlog/index.js';
import { encodeBase64 } from '../../lib/tlog/base64.js';
import { BUNDLE_WIDTH, decodeEntry, type EntryRef } from './entries.js';
import { adminLeaf, eventLeaf, type Leaf, type LeafKind } from './leaves.js';
import {
  findAdmin, findEvents, latestCheckpoint, listCheckpoints, readBundles, readSize, readTile, sweptThrough, tileReader, type Queryable,
} from './repository.js';

export interface AuditLogServiceDeps {
  pool: Queryable;
  db: Pick<NodePgDatabase, 'select'>;
  /** Bytes of tiles kept for proofs (AUDIT_LOG_TILE_CACHE_MB). */
  tileCacheBytes: number;
}

/** present: the record as it is stored now; swept: deleted by retention; missing: deleted some other way. */
export type EntryStatus = 'present' | 'swept' | 'missing';

export interface EntryView {
  index: number;
  kind: LeafKind;
  id: string;
  leafHash: string;
  status: EntryStatus;
  record: Record<string, unknown> | null;
}

/** A non-negative integer query or path value; anything else is 400 with `field`. */
export function parseIndex(text: string, field: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw badRequest(`${field} must be a non-negative integer`, field);
  return Number(text);
}

/** Read side of the audit log: checkpoints, tiles, entries and proofs (all from the database). */
export function createAuditLogService(deps: AuditLogServiceDeps) {
  const { pool } = deps;
  // Complete subtrees and tiles of a given width never change, so what proofs share is hashed
  // or read once per process.
  const subtrees = new SubtreeCache();
  const proofTiles = new TileCache(deps.tileCacheBytes).reader(tileReader(pool));
  // The log only grows: a size once seen stays valid, so a proof up to it needs no size query.
  let knownSize = 0;
  async function sizeReaching(wanted: number): Promise<number> {
    if (wanted > knownSize) knownSize = Math.max(knownSize, await readSize(pool));
    return knownSize;
  }

  async function recordsOf(refs: EntryRef[]): Promise<Map<string, Leaf>> {
    const ids = (kind: LeafKind) => [...new Set(refs.filter((r) => r.kind === kind).map((r) => r.id))];
    const [events, admin] = await Promise.all([
      ids('event').length === 0 ? [] : findEvents(pool, ids('event')),
      ids('admin').length === 0 ? [] : findAdmin(deps.db, ids('admin')),
    ]);
    const leaves = [...events.map(eventLeaf), ...admin.map(adminLeaf)];
    return new Map(leaves.map((leaf) => [`${leaf.kind}:${leaf.id}`, leaf]));
  }

  /** Entries [start, end) of a tree of `size` leaves (end <= size). */
  async function entryRange(start: number, end: number, size: number): Promise<EntryView[]> {
    if (start >= end) return [];
    const firstBundle = Math.floor(start / BUNDLE_WIDTH);
    const lastBundle = Math.floor((end - 1) / BUNDLE_WIDTH);
    const bundleIndexes = Array.from({ length: lastBundle - firstBundle + 1 }, (_, i) => firstBundle + i);
    const tileKeys = bundleIndexes.map((index) => ({ level: 0, index, width: Math.min(TILE_WIDTH, size - index * TILE_WIDTH) }));
    const [bundles, tiles, swept] = await Promise.all([readBundles(pool, bundleIndexes), tileReader(pool)(tileKeys), sweptThrough(pool)]);
    const refs: EntryRef[] = [];
    for (let i = start; i < end; i++) {
      const ref = decodeEntry(bundles.get(Math.floor(i / BUNDLE_WIDTH)) ?? Buffer.alloc(0), i % BUNDLE_WIDTH);
      if (ref === undefined) throw new Error(`audit log entry ${i} has no bundle entry`);
      refs.push(ref);
    }
    const records = await recordsOf(refs);
    return refs.map((ref, offset) => {
      const index = start + offset;
      const tile = tiles[Math.floor(index / TILE_WIDTH) - firstBundle]!;
      const at = (index % TILE_WIDTH) * HASH_SIZE;
      const leafHash = encodeBase64(tile.subarray(at, at + HASH_SIZE));
      const leaf = records.get(`${ref.kind}:${ref.id}`);
      const status: EntryStatus = leaf !== undefined ? 'present' : ref.createdMs <= (swept[ref.kind] ?? -Infinity) ? 'swept' : 'missing';
      return { index, kind: ref.kind, id: ref.id, leafHash, status, record: leaf?.record ?? null };
    });
  }

  return {
    /** The newest signed checkpoint note, if the integrator has signed one. */
    async latestNote(): Promise<string | undefined> {
      return (await latestCheckpoint(pool))?.note;
    },

    async checkpoints(page: Page) {
      const rows = await listCheckpoints(pool, page);
      return rows.map((c) => ({ size: c.size, root: encodeBase64(c.root), note: c.note, createdAt: c.createdAt.toISOString() }));
    },

    /** A tile by its tlog-tiles path; 400 for a malformed path, 404 for a tile the tree lacks. */
    async tile(path: string): Promise<{ data: Buffer; full: boolean }> {
      const key = parseTilePath(path);
      if (key === null) throw badRequest('not a tlog-tiles tile path', 'path');
      const stored = await readTile(pool, key.level, key.index);
      if (stored === undefined || stored.length < key.width * HASH_SIZE) throw notFound('no such tile in the log');
      return { data: stored.subarray(0, key.width * HASH_SIZE), full: key.width === TILE_WIDTH };
    },

    async entries(page: Page): Promise<{ entries: EntryView[]; hasMore: boolean }> {
      const size = await readSize(pool);
      const end = Math.min(size, page.offset + page.limit);
      return { entries: await entryRange(Math.min(page.offset, size), end, size), hasMore: end < size };
    },

    /** One entry; a record that is gone is a 410 carrying the leaf hash (swept or missing). */
    async entry(index: number): Promise<EntryView> {
      const size = await readSize(pool);
      if (index >= size) throw badRequest(`index must be below the log size ${size}`, 'index');
      const [entry] = await entryRange(index, index + 1, size);
      if (entry!.status === 'swept') throw entrySwept(index, entry!.leafHash);
      if (entry!.status === 'missing') throw entryMissing(index, entry!.leafHash);
      return entry!;
    },

    async inclusionProof(index: number, size: number) {
      const current = await sizeReaching(size);
      if (size < 1 || size > current) throw badRequest(`size must be between 1 and the log size ${current}`, 'size');
      if (index >= size) throw badRequest('index must be below size', 'index');
      const proof = await proveInclusion(index, size, proofTiles, subtrees);
      return { index, size, proof: proof.map(encodeBase64) };
    },

    async consistencyProof(from: number, to: number) {
      const current = await sizeReaching(to);
      if (to > current) throw badRequest(`to must be at most the log size ${current}`, 'to');
      if (from > to) throw badRequest('from must be at most to', 'from');
      const proof = await proveConsistency(from, to, proofTiles, subtrees);
      return { from, to, proof: proof.map(encodeBase64) };
    },
  };
}

export type AuditLogService = ReturnType<typeof createAuditLogService>;
